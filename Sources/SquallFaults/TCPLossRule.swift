/// `tcp_loss`: each unit is due when ``SegmentLoss`` says its segments got through (the stream behind a lost
/// segment waits for it, as TCP's does); when a segment is lost more often than TCP retries, the unit is dropped and
/// the connection is reset after the stall.
package struct TCPLossRule: Sendable {
    private var loss: SegmentLoss
    private var random: SeededRandom
    private var givingUp = false

    /// The rule with its generator.
    package init(_ loss: SegmentLoss, random: SeededRandom) {
        self.loss = loss
        self.random = random
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(.tcpLoss(let loss), _):
            if loss.loss.lossRate != self.loss.loss.lossRate || loss.loss.correlation != self.loss.loss.correlation
                || loss.segmentSize != self.loss.segmentSize
            {
                self.loss = loss
            }
            return []
        case .configured:
            return []
        case .unit(let unit, let time):
            guard !self.givingUp else { return [.pass(bytes: nil, at: time)] }
            switch self.loss.chunk(bytes: unit.size, arrivedAt: time, using: &self.random) {
            case .deliver(let due, _):
                return [.pass(bytes: nil, at: due)]
            case .reset(let due):
                self.givingUp = true
                return [.drop, .wake(at: due)]
            }
        case .end(let time):
            return [.passEnd(at: time)]
        case .timer:
            return [.close(.reset)]
        }
    }
}
