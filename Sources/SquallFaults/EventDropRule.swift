/// `drop_events`: drops whole events from an event stream — every `every`-th when that is positive, else each with
/// probability `rate` (seeded, per connection). Blocks that are not events (comments, `retry:`) and other units
/// pass, and the stream's end always does.
package struct EventDropRule: Sendable {
    private var rate: Double
    private var every: Int
    private var random: SeededRandom
    private var seen = 0

    /// The rule for a `drop_events` effect, with this direction's generator.
    package init(rate: Double, every: Int, random: SeededRandom) {
        self.rate = rate
        self.every = every
        self.random = random
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(.dropEvents(let rate, let every), _):
            self.rate = rate
            self.every = every
            return []
        case .configured, .timer:
            return []
        case .end(let time):
            return [.passEnd(at: time)]
        case .unit(let unit, let time):
            guard case .eventBlock(isEvent: true) = unit.kind else { return [.pass(bytes: nil, at: time)] }
            self.seen += 1
            let drops =
                self.every > 0 ? self.seen % self.every == 0 : Double.random(in: 0..<1, using: &self.random) < self.rate
            return drops ? [.drop] : [.pass(bytes: nil, at: time)]
        }
    }
}
