/// What the lifetime faults (`limit_time`, `idle_timeout`) do to an open connection, written once for the proxy and
/// the simulator: the earliest `limit_time` closes it (FIN) that long after it opened; the shortest `idle_timeout`
/// closes it (FIN, or RST with `reset`) once nothing has passed either way for that long.
///
/// A carrier keeps one timer per connection: it asks ``check(sinceOpen:sinceActivity:)`` when the connection opens,
/// when the faults change and when the timer fires, and closes the connection or sets the timer as told.
package struct ConnectionLimitRule: Sendable, Hashable {
    /// One fault's limit: its name, how long, and how it closes.
    package struct Limit: Sendable, Hashable {
        /// The fault.
        package var fault: String
        /// The lifetime, or the idle time.
        package var after: Duration
        /// FIN or RST.
        package var close: StreamDecision.Close
    }

    /// The `limit_time` that closes first (always with a FIN).
    package private(set) var lifetime: Limit?
    /// The shortest `idle_timeout`.
    package private(set) var idle: Limit?

    /// What a check decides.
    package enum Decision: Sendable, Hashable {
        /// Close the connection now, as `close`, for the fault named.
        case close(StreamDecision.Close, fault: String)
        /// Check again once the connection has been open this long.
        case check(atSinceOpen: Duration)
        /// Nothing to watch.
        case none
    }

    /// The rule for the lifetime faults among `faults` (the faults acting on the connection; others are ignored).
    package init(_ faults: [Fault]) {
        for fault in faults {
            switch fault.effect {
            case .limitTime(let lifetime):
                if self.lifetime.map({ lifetime < $0.after }) ?? true {
                    self.lifetime = Limit(fault: fault.name, after: lifetime, close: .fin)
                }
            case .idleTimeout(let idle, let reset):
                if self.idle.map({ idle < $0.after }) ?? true {
                    self.idle = Limit(fault: fault.name, after: idle, close: reset ? .reset : .fin)
                }
            case .noop, .latency, .bandwidth, .slicer, .slowClose, .limitData, .timeout, .resetPeer, .blackhole,
                .down, .refuse, .slowOpen, .connectBlackhole, .blockUpgrade, .dropPings, .closeAfterFrames,
                .delayFrames, .failRequests, .delayRequests, .stripHeader, .packetLoss, .tcpLoss, .bufferStream,
                .cutStream, .dropEvents:
                continue
            }
        }
    }

    /// The faults that act (the earliest lifetime, the shortest idle timeout), for the `connectionsHit` counts.
    package var acting: [String] {
        [self.lifetime?.fault, self.idle?.fault].compactMap(\.self)
    }

    /// The decision for a connection open for `sinceOpen`, on which the last byte passed `sinceActivity` ago.
    package func check(sinceOpen: Duration, sinceActivity: Duration) -> Decision {
        if let lifetime = self.lifetime, sinceOpen >= lifetime.after {
            return .close(lifetime.close, fault: lifetime.fault)
        }
        if let idle = self.idle, sinceActivity >= idle.after { return .close(idle.close, fault: idle.fault) }
        let dues = [
            self.lifetime.map(\.after),
            self.idle.map { sinceOpen + ($0.after - sinceActivity) },
        ].compactMap(\.self)
        guard let next = dues.min() else { return .none }
        return .check(atSinceOpen: next)
    }
}
