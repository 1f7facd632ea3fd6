/// `slicer`: cuts each unit into pieces (see ``SlicePlan``), each passed on its own with `delay` after it; the next
/// unit's first piece waits for the previous one's last pause, and so does the end of the stream.
package struct SlicerRule: Sendable {
    private var averageSize: Int
    private var sizeVariation: Int
    private var delay: Duration
    private var random: SeededRandom
    /// When the pause after the last piece ends.
    private var freeAt: Duration = .zero

    /// The rule with its generator.
    package init(averageSize: Int, sizeVariation: Int, delay: Duration, random: SeededRandom) {
        self.averageSize = averageSize
        self.sizeVariation = sizeVariation
        self.delay = delay
        self.random = random
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(.slicer(let average, let variation, let delay), _):
            self.averageSize = average
            self.sizeVariation = variation
            self.delay = delay
            return []
        case .configured, .timer:
            return []
        case .unit(let unit, let time):
            let sizes = SlicePlan.pieces(
                length: unit.size,
                averageSize: self.averageSize,
                sizeVariation: self.sizeVariation,
                random: &self.random
            )
            var due = max(time, self.freeAt)
            guard !sizes.isEmpty else { return [.pass(bytes: nil, at: due)] }
            var decisions: [StreamDecision] = []
            for (index, size) in sizes.enumerated() {
                decisions.append(.pass(bytes: index == sizes.count - 1 ? nil : size, at: due))
                if self.delay > .zero { due += self.delay }
            }
            self.freeAt = due
            return decisions
        case .end(let time):
            return [.passEnd(at: max(time, self.freeAt))]
        }
    }
}
