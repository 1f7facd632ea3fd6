/// `cut_stream`: lets `events` events of an event stream through, or cuts at each event with probability `rate`
/// when that is positive (seeded), then closes the connection (FIN, or RST when `reset`): between events, or after
/// half of the cut event's bytes when `midEvent`, so the receiver holds an unfinished block. Blocks that are not
/// events (comments, `retry:`) and other units pass and are not counted; nothing passes after the cut.
package struct StreamCutRule: Sendable {
    private var events: Int
    private var rate: Double
    private var midEvent: Bool
    private var reset: Bool
    private var random: SeededRandom
    private var passed = 0
    private var cut = false

    /// The rule for a `cut_stream` effect, with this direction's generator.
    package init(events: Int, rate: Double, midEvent: Bool, reset: Bool, random: SeededRandom) {
        self.events = events
        self.rate = rate
        self.midEvent = midEvent
        self.reset = reset
        self.random = random
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(.cutStream(let events, let rate, let midEvent, let reset), _):
            self.events = events
            self.rate = rate
            self.midEvent = midEvent
            self.reset = reset
            return []
        case .configured, .timer:
            return []
        case .end(let time):
            return self.cut ? [.dropEnd] : [.passEnd(at: time)]
        case .unit(let unit, let time):
            guard !self.cut else { return [.drop] }
            guard case .eventBlock(isEvent: true) = unit.kind else { return [.pass(bytes: nil, at: time)] }
            let cutsHere =
                self.rate > 0 ? Double.random(in: 0..<1, using: &self.random) < self.rate : self.passed >= self.events
            guard cutsHere else {
                self.passed += 1
                return [.pass(bytes: nil, at: time)]
            }
            self.cut = true
            let close = StreamDecision.close(self.reset ? .reset : .fin)
            guard self.midEvent, unit.size > 1 else { return [.drop, close] }
            return [.pass(bytes: unit.size / 2, at: time), close]
        }
    }
}
