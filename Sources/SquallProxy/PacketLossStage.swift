import NIOCore
import SquallFaults

/// `packet_loss`: drops whole chunks as ``ChunkLoss`` decides (Toxiproxy's rule), with this connection's and
/// direction's seeded generator; the end of the stream always passes.
final class PacketLossStage: FaultStage {
    private var random: SeededRandom
    private var loss: ChunkLoss?

    override init(fault: Fault, isActive: Bool, context: StageContext) {
        self.random = context.random
        if case .packetLoss(let loss) = fault.effect { self.loss = loss }
        super.init(fault: fault, isActive: isActive, context: context)
    }

    override func process(_ item: StreamItem) {
        guard case .data = item, var loss = self.loss else { return self.emit(item) }
        let drops = loss.dropsNext(using: &self.random)
        self.loss = loss
        if drops {
            self.chain.discard(item)
        } else {
            self.emit(item)
        }
    }

    override func configurationChanged(becameActive: Bool) {
        // New rates keep whether the last chunk was dropped only when they are the same rule.
        if case .packetLoss(let loss) = self.fault.effect,
            loss.lossRate != self.loss?.lossRate
                || loss.correlation != self.loss?.correlation
        {
            self.loss = loss
        }
    }
}
