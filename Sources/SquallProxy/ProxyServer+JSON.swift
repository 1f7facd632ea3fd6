import SquallFaults

extension ProxyServer {
    /// The proxy in Toxiproxy's shape: `{"name", "listen", "upstream", "enabled", "toxics"}`, with `listen` the
    /// address actually bound and the faults upstream first, then downstream.
    public nonisolated var json: JSONValue {
        let configuration = self.configuration
        return .object([
            "name": .string(self.name),
            "listen": .string(self.listenText),
            "upstream": .string(configuration.upstream.description),
            "enabled": .bool(configuration.enabled),
            "toxics": .array(Self.toxiproxyOrder(configuration.faults).map(\.json)),
            "profile": configuration.profile.map { .string($0.name) } ?? .null,
        ])
    }

    /// Faults as Toxiproxy lists them: upstream ones first, then downstream, each in creation order.
    nonisolated static func toxiproxyOrder(_ faults: [Fault]) -> [Fault] {
        faults.filter { $0.direction == .upstream } + faults.filter { $0.direction == .downstream }
    }
}

extension ProxyConnectionInfo {
    /// The connection as the control API lists it; `origin` is the client identity (`web-3`) when the client
    /// reported its port, else null.
    public var json: JSONValue {
        .object([
            "id": .number(Double(self.id)),
            "client": .string(self.clientAddress),
            "origin": self.client.map { .string($0) } ?? .null,
            "opened_at_ms": .number(Double(self.openedAtMilliseconds)),
            "bytes_from_client": .number(Double(self.bytesFromClient)),
            "bytes_to_server": .number(Double(self.bytesToServer)),
            "bytes_from_server": .number(Double(self.bytesFromServer)),
            "bytes_to_client": .number(Double(self.bytesToClient)),
            "faults": .array(self.activeFaults.map { .string($0) }),
        ])
    }
}
