/// Where in a direction's chain a fault acts: on whole messages (HTTP requests, WebSocket frames), which come first,
/// or on the byte stream after them. One rule for the proxy's chains and the simulator's.
package enum FaultChainPart: Sendable, Hashable {
    /// On whole requests and frames.
    case messages
    /// On the byte stream.
    case bytes
}

extension Fault {
    /// The part of `direction`'s chain this fault sits in; nil when it does not act there (the other direction, or
    /// a fault that acts on connects, the whole proxy or a connection's lifetime).
    ///
    /// Request faults act upstream whatever their `stream` (requests only travel client → server), event-stream
    /// faults downstream (answers only travel server → client); `drop_pings` acts both ways (pings and pongs travel both ways).
    package func chainPart(in direction: FaultDirection) -> FaultChainPart? {
        let inDirection: Bool
        if self.type.actsOnRequests {
            inDirection = direction == .upstream
        } else if self.type.actsOnEvents {
            inDirection = direction == .downstream
        } else {
            inDirection = self.direction == direction || self.type.actsBothWays
        }
        guard inDirection else { return nil }
        switch self.type.phase {
        case .message: return .messages
        case .stream: return self.type == .limitTime || self.type == .idleTimeout ? nil : .bytes
        case .connect, .proxy: return nil
        }
    }
}
