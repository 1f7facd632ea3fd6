/// The one meaning of the faults that act on whole HTTP requests instead of bytes — `block_upgrade`,
/// `fail_requests` and `strip_header` — for the proxy's stages and the simulator alike: given a request, what
/// happens to it.
package struct RequestRule: Sendable {
    /// What happens to one request.
    package enum Decision: Sendable, Hashable {
        /// It goes on untouched.
        case forward
        /// It goes on without its upgrade headers, so the server answers as plain HTTP (`strip`).
        case forwardStripped
        /// It goes on without the header `name` (`strip_header`; any case).
        case forwardWithout(header: String)
        /// It goes on; once the server's 101 is through, nothing more is delivered either way until the fault is
        /// removed (`blackhole_after_101`).
        case forwardThenSilence
        /// It goes on; once the server's 101 is through, the server's frames are held and released together every
        /// `interval` (`buffer_after_101`).
        case forwardThenBuffer(interval: Duration)
        /// The proxy answers it itself with `status` and `message`, closing the connection after when `closes`.
        case answer(status: Int, message: String, closes: Bool)
        /// The client's connection is reset.
        case reset
        /// It is never answered, and the connection stays silent until the fault is removed.
        case hang
    }

    /// The message of a `fail_requests` answer.
    package static let failMessage = "request failed by squall fail_requests"
    /// The message of a `block_upgrade` rejection.
    package static let rejectMessage = "WebSocket upgrade blocked by proxy"

    /// The body of the proxy's own answer with `status` and `message`: `{"error": message, "status": status}`, as
    /// the proxy writes it and as the simulator hands it to the client.
    package static func answerBody(status: Int, message: String) -> [UInt8] {
        Array("{\"error\":\(JSONValue.quote(message)),\"status\":\(status)}\n".utf8)
    }

    private var effect: FaultEffect
    private var random: SeededRandom

    /// The rule of a `block_upgrade` or `fail_requests` effect, with the generator of its fault on the upstream
    /// direction of one connection.
    package init(_ effect: FaultEffect, random: SeededRandom) {
        self.effect = effect
        self.random = random
    }

    /// The effect now in force (its attributes changed).
    package mutating func configure(_ effect: FaultEffect) {
        self.effect = effect
    }

    /// Decides on one request.
    ///
    /// - Parameters:
    ///   - method: its method, e.g. `GET`.
    ///   - target: its target (path and query).
    ///   - isUpgrade: whether it asks to upgrade to WebSocket.
    ///   - count: counts it among the requests this fault matched through the whole proxy and returns the count
    ///     (the carrier keeps it: `every` counts across connections); called only for a matching request of a
    ///     `fail_requests` without a `rate`.
    package mutating func decide(method: String, target: String, isUpgrade: Bool, count: () -> Int) -> Decision {
        switch self.effect {
        case .blockUpgrade(let mode, let status, let interval):
            guard isUpgrade else { return .forward }
            switch mode {
            case .reject: return .answer(status: status, message: Self.rejectMessage, closes: true)
            case .strip: return .forwardStripped
            case .reset: return .reset
            case .hang: return .hang
            case .blackholeAfter101: return .forwardThenSilence
            case .bufferAfter101: return .forwardThenBuffer(interval: interval)
            }
        case .failRequests(let status, let every, let rate, let match, let hangs):
            guard match.matches(method: method, uri: target) else { return .forward }
            let fails = rate > 0 ? Double.random(in: 0..<1, using: &self.random) < rate : count() % every == 0
            guard fails else { return .forward }
            return hangs ? .hang : .answer(status: status, message: Self.failMessage, closes: false)
        case .stripHeader(let name, let match):
            return match.matches(method: method, uri: target) ? .forwardWithout(header: name) : .forward
        case .noop, .latency, .bandwidth, .slicer, .slowClose, .limitData, .timeout, .limitTime, .idleTimeout,
            .resetPeer, .blackhole, .down, .refuse, .slowOpen, .connectBlackhole, .dropPings, .closeAfterFrames,
            .delayFrames, .delayRequests, .packetLoss, .tcpLoss, .bufferStream, .cutStream, .dropEvents:
            return .forward
        }
    }
}
