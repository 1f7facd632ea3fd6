/// `timeout` and `blackhole`: units in this direction are dropped, never passed later.
///
/// `timeout` closes the connection (FIN) after `idle` without an arriving unit in this direction (0: never), the
/// wait restarted by each one, and passes the end of the stream on. `blackhole` also swallows the end of the stream,
/// so the receiver sees a socket that is open and silent: the half-open case.
package struct DropRule: Sendable {
    /// `timeout`'s wait, nil for `blackhole` (and for a `timeout` of 0).
    private var idle: Duration?
    private let hidesEnd: Bool

    /// A `timeout` rule (`idle` 0: never closes).
    package static func timeout(idle: Duration) -> DropRule {
        DropRule(idle: idle > .zero ? idle : nil, hidesEnd: false)
    }

    /// A `blackhole` rule.
    package static var blackhole: DropRule {
        DropRule(idle: nil, hidesEnd: true)
    }

    private init(idle: Duration?, hidesEnd: Bool) {
        self.idle = idle
        self.hidesEnd = hidesEnd
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(let effect, let time):
            if case .timeout(let idle) = effect { self.idle = idle > .zero ? idle : nil }
            return self.idle.map { [.wake(at: time + $0)] } ?? []
        case .unit(_, let time):
            return [.drop] + (self.idle.map { [.wake(at: time + $0)] } ?? [])
        case .end(let time):
            return self.hidesEnd ? [.dropEnd] : [.passEnd(at: time)]
        case .timer:
            return self.idle == nil ? [] : [.close(.fin)]
        }
    }
}
