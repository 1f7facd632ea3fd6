import NIOHTTP1

extension HTTPRequestHead {
    /// Whether the request asks to switch protocols: an `Upgrade` header and `upgrade` among the `Connection`
    /// tokens — what makes NIO's request decoder stop after it, since what follows may not be HTTP. (`CONNECT` stops
    /// it too; a tunnel through the proxy is not supported.)
    var isUpgradeRequest: Bool {
        !self.headers["Upgrade"].isEmpty
            && self.headers[canonicalForm: "Connection"].contains { $0.lowercased() == "upgrade" }
    }

    /// Whether the request asks to upgrade to WebSocket (an upgrade request with `Upgrade: websocket`).
    var isWebSocketUpgrade: Bool {
        self.isUpgradeRequest && self.headers["Upgrade"].contains { $0.lowercased().contains("websocket") }
    }
}
