/// `delay_frames` and `delay_requests`: each matching frame or request is due `delay` after it arrived; everything
/// else passes at once, never ahead of what waits before it.
package struct MessageDelayRule: Sendable {
    private var effect: FaultEffect

    /// The rule for a `delay_frames` or `delay_requests` effect.
    package init(effect: FaultEffect) {
        self.effect = effect
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(let effect, _):
            self.effect = effect
            return []
        case .timer:
            return []
        case .end(let time):
            return [.passEnd(at: time)]
        case .unit(let unit, let time):
            switch self.effect {
            case .delayFrames(let delay):
                guard case .frame = unit.kind else { return [.pass(bytes: nil, at: time)] }
                return [.pass(bytes: nil, at: time + delay)]
            case .delayRequests(let delay, let match):
                guard case .request(let method, let target) = unit.kind, match.matches(method: method, uri: target)
                else { return [.pass(bytes: nil, at: time)] }
                return [.pass(bytes: nil, at: time + delay)]
            case .noop, .latency, .bandwidth, .slicer, .slowClose, .limitData, .timeout, .limitTime, .idleTimeout,
                .resetPeer, .blackhole, .down, .refuse, .slowOpen, .connectBlackhole, .blockUpgrade, .dropPings,
                .closeAfterFrames, .failRequests, .stripHeader, .packetLoss, .tcpLoss, .bufferStream, .cutStream,
                .dropEvents:
                return [.pass(bytes: nil, at: time)]
            }
        }
    }
}
