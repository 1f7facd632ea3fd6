/// `latency`: each unit is due `delay ± jitter` after it arrived (a steady stream is delayed once, not
/// cumulatively); the end of the stream passes behind what is already on its way.
package struct LatencyRule: Sendable {
    private var delay: Duration
    private var jitter: Duration
    private var random: SeededRandom

    /// The rule with its generator.
    package init(delay: Duration, jitter: Duration, random: SeededRandom) {
        self.delay = delay
        self.jitter = jitter
        self.random = random
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(.latency(let delay, let jitter), _):
            self.delay = delay
            self.jitter = jitter
            return []
        case .configured, .timer:
            return []
        case .unit(_, let time):
            let wait = LatencyPlan.delayNanoseconds(delay: self.delay, jitter: self.jitter, random: &self.random)
            return [.pass(bytes: nil, at: time + .nanoseconds(wait))]
        case .end(let time):
            return [.passEnd(at: time)]
        }
    }
}
