/// `drop_pings` and `close_after_frames`: act on whole WebSocket frames.
///
/// `drop_pings` swallows ping and pong frames, so a heartbeat never gets its answer. `close_after_frames` lets
/// `frames` data frames through in its direction, then ends the WebSocket with `code` (1006: cuts TCP) and drops
/// every data frame after.
package struct FrameRule: Sendable {
    private var effect: FaultEffect
    private var dataFrames = 0
    private var closed = false

    /// The rule for a `drop_pings` or `close_after_frames` effect.
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
            guard case .frame(let kind) = unit.kind else { return [.pass(bytes: nil, at: time)] }
            switch self.effect {
            case .dropPings:
                return kind == .ping || kind == .pong ? [.drop] : [.pass(bytes: nil, at: time)]
            case .closeAfterFrames(let limit, let code):
                guard kind.isData else { return [.pass(bytes: nil, at: time)] }
                guard !self.closed else { return [.drop] }
                if self.dataFrames < limit {
                    self.dataFrames += 1
                    guard self.dataFrames == limit else { return [.pass(bytes: nil, at: time)] }
                    self.closed = true
                    return [.pass(bytes: nil, at: time), .closeWebSocket(code: code)]
                }
                self.closed = true
                return [.drop, .closeWebSocket(code: code)]
            case .noop, .latency, .bandwidth, .slicer, .slowClose, .limitData, .timeout, .limitTime, .idleTimeout,
                .resetPeer, .blackhole, .down, .refuse, .slowOpen, .connectBlackhole, .blockUpgrade, .delayFrames,
                .failRequests, .delayRequests, .stripHeader, .packetLoss, .tcpLoss, .bufferStream, .cutStream,
                .dropEvents:
                return [.pass(bytes: nil, at: time)]
            }
        }
    }
}
