import NIOCore
import NIOPosix
import SquallFaults

/// The named proxies of one Squall process: what `squall proxy` runs and the control API manages.
///
/// Every proxy shares the collection's seed, so a whole run is reproducible from one number.
public actor ProxyCollection {
    /// The seed every proxy's random choices derive from.
    public nonisolated let seed: UInt64
    private nonisolated let group: any EventLoopGroup
    private var proxies: [String: ProxyServer] = [:]

    /// Creates an empty collection.
    public init(
        seed: UInt64 = SeedTree.defaultSeed,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.seed = seed
        self.group = eventLoopGroup
    }

    /// The proxies sorted by name.
    public var all: [ProxyServer] {
        self.proxies.keys.sorted().map { self.proxies[$0]! }
    }

    /// The proxy called `name`.
    ///
    /// - Throws: ``ProxyError/proxyNotFound(_:)``.
    public func proxy(named name: String) throws(ProxyError) -> ProxyServer {
        guard let proxy = self.proxies[name] else { throw ProxyError.proxyNotFound(name) }
        return proxy
    }

    /// Creates and starts a proxy.
    ///
    /// - Throws: ``ProxyError/proxyExists(_:)``, or ``ProxyError/listenFailed(proxy:address:reason:)`` (the proxy is
    ///   then not added).
    @discardableResult
    public func create(_ configuration: ProxyConfiguration) async throws(ProxyError) -> ProxyServer {
        guard self.proxies[configuration.name] == nil else { throw ProxyError.proxyExists(configuration.name) }
        let proxy = ProxyServer(configuration: configuration, seed: self.seed, eventLoopGroup: self.group)
        // Reserve the name before the first suspension so a concurrent create of the same name fails.
        self.proxies[configuration.name] = proxy
        do {
            try await proxy.start()
        } catch {
            self.proxies[configuration.name] = nil
            throw error
        }
        return proxy
    }

    /// Creates or replaces proxies in order, as Toxiproxy's `/populate` does: an existing proxy with the same
    /// listen address and upstream is kept (its faults are replaced when the entry lists faults); any other
    /// existing proxy of that name is stopped and replaced.
    ///
    /// - Returns: the proxies of the entries, in order.
    /// - Throws: the first failure; entries before it stay applied.
    public func populate(_ configurations: [ProxyConfiguration]) async throws(ProxyError) -> [ProxyServer] {
        var result: [ProxyServer] = []
        for configuration in configurations {
            if let existing = self.proxies[configuration.name] {
                let current = existing.configuration
                let sameListen =
                    configuration.listen.port != 0
                    && HostAndPort(parsing: existing.listenText) == configuration.listen
                if sameListen && current.upstream == configuration.upstream {
                    if !configuration.faults.isEmpty {
                        try await existing.removeAllFaults()
                        for fault in configuration.faults {
                            try await existing.addFault(fault)
                        }
                    }
                    try await existing.setEnabled(configuration.enabled)
                    result.append(existing)
                    continue
                }
                self.proxies[configuration.name] = nil
                await existing.stop()
            }
            result.append(try await self.create(configuration))
        }
        return result
    }

    /// Stops and removes a proxy, closing its listener and connections.
    ///
    /// - Throws: ``ProxyError/proxyNotFound(_:)``.
    public func delete(named name: String) async throws(ProxyError) {
        guard let proxy = self.proxies.removeValue(forKey: name) else { throw ProxyError.proxyNotFound(name) }
        await proxy.stop()
    }

    /// Enables every proxy and removes every fault, as Toxiproxy's `/reset` does.
    ///
    /// - Throws: the first listen failure; proxies after it are left as they were.
    public func reset() async throws(ProxyError) {
        for proxy in self.all {
            try await proxy.removeAllFaults()
            try await proxy.setEnabled(true)
        }
    }

    /// Stops every proxy.
    public func stopAll() async {
        for proxy in self.proxies.values {
            await proxy.stop()
        }
    }
}

extension HostAndPort {
    /// Parses `host:port`, or nil when the text is not one.
    init?(parsing text: String) {
        guard let parsed = try? HostAndPort(parsing: text, path: "") else { return nil }
        self = parsed
    }
}
