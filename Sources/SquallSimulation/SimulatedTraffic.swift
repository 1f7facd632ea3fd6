/// What travels on a simulated connection, as far as faults care: its size and what protocol unit it is.
package enum SimulatedTraffic: Hashable {
    /// Which WebSocket frame.
    package enum Frame: Hashable {
        case text, ping, pong, close
    }

    /// An HTTP request: the upgrade (`isUpgrade`) or a job-state request, with its method and target.
    case request(isUpgrade: Bool, target: String)
    /// An HTTP response (a 101 or an answer).
    case response
    /// A WebSocket frame.
    case frame(Frame)
    /// One block of an event stream, as the proxy forwards it (``StreamUnit/Kind/eventBlock(isEvent:)``).
    case eventBlock(isEvent: Bool)

}
