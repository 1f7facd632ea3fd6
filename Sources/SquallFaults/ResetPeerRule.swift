/// `reset_peer`: from the first unit (or end) in its direction, drops everything; `timeout` after that first one it
/// resets the connection (RST both ways), at once for 0.
package struct ResetPeerRule: Sendable {
    private var timeout: Duration
    private var triggered = false

    /// The rule.
    package init(timeout: Duration) {
        self.timeout = timeout
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(.resetPeer(let timeout), _):
            self.timeout = timeout
            return []
        case .configured:
            return []
        case .unit(_, let time):
            return [.drop] + self.trigger(at: time)
        case .end(let time):
            return [.dropEnd] + self.trigger(at: time)
        case .timer:
            return [.close(.reset)]
        }
    }

    private mutating func trigger(at time: Duration) -> [StreamDecision] {
        guard !self.triggered else { return [] }
        self.triggered = true
        return self.timeout <= .zero ? [.close(.reset)] : [.wake(at: time + self.timeout)]
    }
}
