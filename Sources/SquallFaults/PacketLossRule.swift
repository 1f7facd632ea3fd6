/// `packet_loss`: drops whole units as ``ChunkLoss`` decides (Toxiproxy's rule); the end of the stream always
/// passes.
package struct PacketLossRule: Sendable {
    private var loss: ChunkLoss
    private var random: SeededRandom

    /// The rule with its generator.
    package init(_ loss: ChunkLoss, random: SeededRandom) {
        self.loss = loss
        self.random = random
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(.packetLoss(let loss), _):
            // New rates forget whether the last unit was dropped; the same ones keep it.
            if loss.lossRate != self.loss.lossRate || loss.correlation != self.loss.correlation { self.loss = loss }
            return []
        case .configured, .timer:
            return []
        case .unit(_, let time):
            return self.loss.dropsNext(using: &self.random) ? [.drop] : [.pass(bytes: nil, at: time)]
        case .end(let time):
            return [.passEnd(at: time)]
        }
    }
}
