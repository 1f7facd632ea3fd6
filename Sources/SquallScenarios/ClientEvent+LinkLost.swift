import SquallReferenceClient

extension ClientEvent.Kind {
    /// Whether this is a WebSocket that ended before the client's job did — cut under it, or closed by its own
    /// heartbeat: every `closed` but the client's own at the end of its job (`client closed: job …`). One rule for
    /// the recovery metrics and the real-versus-simulated comparison's boundaries.
    var isLinkLost: Bool {
        guard case .closed(_, let reason) = self else { return false }
        return !reason.hasPrefix("client closed: job")
    }
}
