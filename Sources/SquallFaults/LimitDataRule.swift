/// `limit_data`: passes exactly `bytes` bytes in its direction, cutting the unit that crosses the limit, then closes
/// the connection (FIN both ways) and drops everything after. The count survives attribute changes.
package struct LimitDataRule: Sendable {
    private var limit: Int
    private var passed = 0
    private var exhausted = false

    /// The rule.
    package init(bytes: Int) {
        self.limit = bytes
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(.limitData(let bytes), _):
            self.limit = bytes
            return []
        case .configured, .timer:
            return []
        case .unit(let unit, let time):
            guard !self.exhausted else { return [.drop] }
            let allowed = self.limit - self.passed
            if unit.size < allowed {
                self.passed += unit.size
                return [.pass(bytes: nil, at: time)]
            }
            self.exhausted = true
            var decisions: [StreamDecision] = []
            if allowed > 0 {
                self.passed += allowed
                decisions.append(.pass(bytes: allowed, at: time))
            }
            return decisions + [.drop, .close(.fin)]
        case .end(let time):
            return self.exhausted ? [.dropEnd] : [.passEnd(at: time)]
        }
    }
}
