/// What the connect faults (`refuse`, `connect_blackhole`, `slow_open`) do to a new connection, written once for the
/// proxy and the simulator.
///
/// The faults acting on the connection are read in the order they were added: the first `refuse` or
/// `connect_blackhole` decides, and every `slow_open` before it adds its delay.
package enum ConnectRule {
    /// What a new connection meets.
    package enum Decision: Sendable, Hashable {
        /// It goes on to the server after `delay` (zero: at once).
        case open(after: Duration)
        /// Accepted, then reset (`refuse`, named).
        case refuse(fault: String)
        /// Accepted and never answered, until the fault named is removed (`connect_blackhole`).
        case blackhole(fault: String)
    }

    /// The decision for a connection that the connect faults `faults` act on (others are ignored), in the order they
    /// were added.
    ///
    /// - Returns: the decision, and the faults that acted on the connection (for the `connectionsHit` counts).
    package static func decide(_ faults: [Fault]) -> (decision: Decision, acted: [Fault]) {
        var delay = Duration.zero
        var acted: [Fault] = []
        for fault in faults {
            switch fault.effect {
            case .refuse:
                return (.refuse(fault: fault.name), acted + [fault])
            case .connectBlackhole:
                return (.blackhole(fault: fault.name), acted + [fault])
            case .slowOpen(let wait):
                delay += wait
                acted.append(fault)
            case .noop, .latency, .bandwidth, .slicer, .slowClose, .limitData, .timeout, .resetPeer, .blackhole,
                .limitTime, .idleTimeout, .down, .blockUpgrade, .dropPings, .closeAfterFrames, .delayFrames,
                .failRequests, .delayRequests, .stripHeader, .packetLoss, .tcpLoss, .bufferStream, .cutStream,
                .dropEvents:
                continue
            }
        }
        return (.open(after: delay), acted)
    }
}
