/// `slow_close`: data passes at once; the end of the stream is held back by `delay`.
package struct SlowCloseRule: Sendable {
    private var delay: Duration

    /// The rule.
    package init(delay: Duration) {
        self.delay = delay
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(.slowClose(let delay), _):
            self.delay = delay
            return []
        case .configured, .timer:
            return []
        case .unit(_, let time):
            return [.pass(bytes: nil, at: time)]
        case .end(let time):
            return [.passEnd(at: time + max(.zero, self.delay))]
        }
    }
}
