import NIOHTTP1

extension HTTPRequestHead {
    /// Whether the request asks to upgrade to WebSocket: an `Upgrade: websocket` header and `upgrade` among the
    /// `Connection` tokens, which is also what makes NIO's request decoder stop after it.
    var isWebSocketUpgrade: Bool {
        self.headers["Upgrade"].contains { $0.lowercased().contains("websocket") }
            && self.headers[canonicalForm: "Connection"].contains { $0.lowercased() == "upgrade" }
    }
}
