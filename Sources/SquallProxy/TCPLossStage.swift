import NIOCore
import SquallFaults

/// `tcp_loss`: holds each chunk for the retransmissions ``SegmentLoss`` draws for its segments, never reordering
/// (the stream behind a lost segment waits for it, as TCP's does); when a segment is lost more often than TCP
/// retries, the connection is reset after the stall.
final class TCPLossStage: FaultStage {
    private var random: SeededRandom
    private var loss: SegmentLoss?
    private var queue: OrderedDelayQueue!
    private var giveUp: Scheduled<Void>?

    override init(fault: Fault, isActive: Bool, context: StageContext) {
        self.random = context.random
        if case .tcpLoss(let loss) = fault.effect { self.loss = loss }
        super.init(fault: fault, isActive: isActive, context: context)
        self.queue = OrderedDelayQueue(eventLoop: context.eventLoop) { [unowned self] item, _ in
            self.emit(item)
        }
    }

    override func process(_ item: StreamItem) {
        guard case .data(_, let receivedAt, _) = item, var loss = self.loss, self.giveUp == nil else {
            return self.queue.add(item, due: .now())
        }
        let arrived = Duration.nanoseconds(Int64(receivedAt.uptimeNanoseconds))
        let outcome = loss.chunk(bytes: item.byteCount, arrivedAt: arrived, using: &self.random)
        self.loss = loss
        switch outcome {
        case .deliver(let time, _):
            self.queue.add(item, due: .uptimeNanoseconds(UInt64(time.nanosecondCount)))
        case .reset(let time):
            self.chain.discard(item)
            let connection = self.chain.connection
            self.giveUp = self.eventLoop.assumeIsolated().scheduleTask(
                deadline: .uptimeNanoseconds(UInt64(time.nanosecondCount))
            ) {
                connection.close(mode: .reset, reason: "tcp_loss: a segment was lost more often than TCP retries")
            }
        }
    }

    override func configurationChanged(becameActive: Bool) {
        if case .tcpLoss(let loss) = self.fault.effect,
            loss.loss.lossRate != self.loss?.loss.lossRate
                || loss.loss.correlation != self.loss?.loss.correlation || loss.segmentSize != self.loss?.segmentSize
        {
            self.loss = loss
        }
    }

    override func drain() -> [StreamItem] {
        self.giveUp?.cancel()
        self.giveUp = nil
        return self.queue.drain()
    }

    override func cancel() {
        _ = self.drain()
    }
}
