import NIOCore
import NIOPosix
import SquallFaults
import Synchronization

/// One named fault-injecting TCP proxy: a listener, an upstream address and an ordered list of faults.
///
/// Faults can be added, changed and removed while connections are open; every change reaches every live
/// connection at once. Control operations are serialized by the actor; the data path runs on NIO event loops
/// and reads the shared state (faults, live connections) through a `Mutex`, so accepting a connection never waits
/// for the actor.
///
/// ```swift
/// let proxy = ProxyServer(configuration: .init(name: "api", upstream: HostAndPort(host: "127.0.0.1", port: 8080)))
/// try await proxy.start()
/// try await proxy.addFault(Fault(type: .latency, attributes: ["latency": 100]))
/// // … connect to proxy.listenAddress …
/// await proxy.stop()
/// ```
public actor ProxyServer {
    /// The proxy's name.
    public nonisolated let name: String
    /// The seed every random choice of this proxy derives from.
    public nonisolated var seed: UInt64 { self.seeds.seed }
    /// The run's seed tree (see ``SeedTree``).
    public nonisolated let seeds: SeedTree
    /// Where the proxy learns which client opened a connection; nil when no client reports its ports.
    public nonisolated let origins: ConnectionOriginRegistry?
    /// Live counters.
    public nonisolated let metrics = ProxyMetrics()
    private nonisolated let group: any EventLoopGroup
    private nonisolated let shared: Mutex<Shared>
    private nonisolated let requestCounters = Mutex<[String: Counter]>([:])
    /// One listening socket per event loop (`SO_REUSEPORT`), each accepting onto its own loop; empty while not
    /// listening.
    private var listeners: [any Channel] = []
    private var running = false
    private var blackoutTask: Task<Void, Never>?
    private var handoffReports: [HandoffReport] = []

    /// What the event loops need to read synchronously.
    struct Shared: Sendable {
        var configuration: ProxyConfiguration
        var faultsVersion: UInt64 = 0
        var connections: [UInt64: ConnectionHandle] = [:]
        var nextConnectionID: UInt64 = 1
        /// Ids given at accept, in accept order, until the connection is set up on its own loop.
        var acceptedIDs: [ObjectIdentifier: UInt64] = [:]
        var boundAddress: SocketAddress?
        var upstreamAddress: SocketAddress?
        var blackout: Handoff.BlackoutMode?
    }

    /// How another thread reaches a live connection.
    struct ConnectionHandle: Sendable {
        let id: UInt64
        let origin: ConnectionOrigin?
        let clientAddress: String
        let openedAtMilliseconds: Int64
        let statistics: ConnectionStatistics
        let channel: any Channel
        let connection: NIOLoopBound<ProxyConnection>
    }

    /// The part of the proxy a connection keeps: fixed when the connection is accepted.
    struct LoopContext: Sendable {
        let name: String
        let seeds: SeedTree
        let metrics: ProxyMetrics
        let upstream: HostAndPort
        let upstreamAddress: SocketAddress?
        let connectTimeout: Duration
        let server: ProxyServer

        func connectionFinished(_ id: UInt64) {
            self.server.connectionFinished(id)
        }
    }

    /// Creates a stopped proxy.
    ///
    /// - Parameters:
    ///   - configuration: name, addresses and initial faults.
    ///   - seed: the seed for toxicity draws, jitter and slicing; the same seed gives the same choices.
    ///   - origins: where clients report the local ports they connect from, so faults can target clients and draws
    ///     are keyed by client (see ``ConnectionOrigin``); nil: connections are keyed by serial number.
    ///   - eventLoopGroup: where sockets run; the shared singleton by default.
    public init(
        configuration: ProxyConfiguration,
        seed: UInt64 = SeedTree.defaultSeed,
        origins: ConnectionOriginRegistry? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.name = configuration.name
        self.seeds = SeedTree(seed: seed)
        self.origins = origins
        self.group = eventLoopGroup
        self.shared = Mutex(Shared(configuration: configuration))
    }

    // MARK: Lifecycle

    /// Opens the listener (when enabled) and starts accepting connections.
    ///
    /// - Throws: ``ProxyError/listenFailed(proxy:address:reason:)`` when the address cannot be bound.
    public func start() async throws(ProxyError) {
        guard !self.running else { return }
        self.running = true
        let upstream = self.shared.withLock { $0.configuration.upstream }
        let resolved = try? SocketAddress(ipAddress: upstream.host, port: upstream.port)
        self.shared.withLock { shared in
            shared.upstreamAddress = resolved
            if let profile = shared.configuration.profile {
                shared.configuration.faults = Self.replacingProfileFaults(
                    in: shared.configuration.faults,
                    with: profile
                )
            }
        }
        do {
            try await self.reconcileListener()
        } catch {
            self.running = false
            throw error
        }
    }

    /// Starts the proxy, serves until the task running this is cancelled, then stops it — the swift-service-lifecycle
    /// `run()` shape, for running a proxy beside other services in one task group.
    ///
    /// - Throws: ``ProxyError/listenFailed(proxy:address:reason:)`` when the address cannot be bound.
    public func run() async throws(ProxyError) {
        try await self.start()
        let (cancelled, keepOpen) = AsyncStream<Never>.makeStream()
        // Iterating an AsyncStream ends when the task is cancelled.
        for await _ in cancelled {}
        keepOpen.finish()
        await self.stop()
    }

    /// Closes the listener and every connection, and waits until they are closed.
    public func stop() async {
        self.running = false
        self.blackoutTask?.cancel()
        self.blackoutTask = nil
        self.shared.withLock { $0.blackout = nil }
        try? await self.reconcileListener()
        await self.closeAllConnections(mode: .fin)
    }

    /// The address the proxy listens on, with the real port when the configuration asked for port 0; nil while no
    /// listener has been bound yet.
    public nonisolated var listenAddress: SocketAddress? {
        self.shared.withLock { $0.boundAddress }
    }

    /// The configured listen address as text, with the bound port once known (`127.0.0.1:0` → `127.0.0.1:41234`).
    public nonisolated var listenText: String {
        self.shared.withLock { shared in
            var listen = shared.configuration.listen
            if let port = shared.boundAddress?.port { listen.port = port }
            return listen.description
        }
    }

    /// The current configuration, faults included.
    public nonisolated var configuration: ProxyConfiguration {
        self.shared.withLock { $0.configuration }
    }

    /// Whether the proxy should be accepting connections: enabled, running and without a `down` fault.
    public nonisolated var isAccepting: Bool {
        self.shared.withLock { shared in
            shared.configuration.enabled && shared.blackout != .refuse
                && !shared.configuration.faults.contains { $0.type == .down }
        }
    }

    /// Enables or disables the proxy. Disabling closes the listener (new connections are refused) and every live
    /// connection; enabling listens again on the same port.
    public func setEnabled(_ enabled: Bool) async throws(ProxyError) {
        self.shared.withLock { $0.configuration.enabled = enabled }
        try await self.reconcileListener()
    }

    /// Changes where the proxy listens or forwards, and whether it is enabled, as Toxiproxy's proxy update does.
    ///
    /// A new listen address or upstream restarts the proxy: the listener is reopened and live connections are
    /// closed. When the new address cannot be bound the proxy is left disabled.
    ///
    /// - Throws: ``ProxyError/listenFailed(proxy:address:reason:)``.
    public func update(listen: HostAndPort?, upstream: HostAndPort?, enabled: Bool?) async throws(ProxyError) {
        let current = self.configuration
        var effectiveListen = current.listen
        if let port = self.listenAddress?.port { effectiveListen.port = port }
        let listenChanged =
            listen.map { requested in
                requested != effectiveListen && !(requested.port == 0 && requested.host == current.listen.host)
            } ?? false
        let upstreamChanged = upstream.map { $0 != current.upstream } ?? false
        if listenChanged || upstreamChanged {
            await self.closeListeners()
            await self.closeAllConnections(mode: .fin)
            self.shared.withLock { shared in
                if let listen, listenChanged {
                    shared.configuration.listen = listen
                    shared.boundAddress = nil
                }
                if let upstream, upstreamChanged {
                    shared.configuration.upstream = upstream
                    shared.upstreamAddress = try? SocketAddress(ipAddress: upstream.host, port: upstream.port)
                }
            }
        }
        if let enabled {
            self.shared.withLock { $0.configuration.enabled = enabled }
        }
        do {
            try await self.reconcileListener()
        } catch {
            self.shared.withLock { $0.configuration.enabled = false }
            throw error
        }
    }

    // MARK: Faults

    /// The faults in creation order.
    public nonisolated var faults: [Fault] {
        self.shared.withLock { $0.configuration.faults }
    }

    /// Adds a fault at the end of its direction's chain; it acts on live connections at once.
    ///
    /// - Throws: ``ProxyError/faultExists(proxy:fault:)`` when the name is taken.
    public func addFault(_ fault: Fault) async throws(ProxyError) {
        try self.mutateFaults { faults throws(ProxyError) in
            guard !faults.contains(where: { $0.name == fault.name }) else {
                throw ProxyError.faultExists(proxy: self.name, fault: fault.name)
            }
            faults.append(fault)
        }
        try await self.reconcileListener()
    }

    /// Replaces the fault of the same name, keeping its place in the chain and its per-connection state.
    ///
    /// - Throws: ``ProxyError/faultNotFound(proxy:fault:)``, or ``ProxyError/immutable(_:)`` when the type or
    ///   direction would change.
    public func updateFault(_ fault: Fault) async throws(ProxyError) {
        try self.mutateFaults { faults throws(ProxyError) in
            guard let index = faults.firstIndex(where: { $0.name == fault.name }) else {
                throw ProxyError.faultNotFound(proxy: self.name, fault: fault.name)
            }
            guard faults[index].type == fault.type, faults[index].direction == fault.direction else {
                throw ProxyError.immutable(
                    "the type and direction of fault \"\(fault.name)\" cannot change; remove it and add a new one"
                )
            }
            faults[index] = fault
        }
        try await self.reconcileListener()
    }

    /// Removes a fault. Held data moves on at once; `timeout` and `blackhole` close the connections they acted on.
    ///
    /// - Throws: ``ProxyError/faultNotFound(proxy:fault:)``.
    public func removeFault(named name: String) async throws(ProxyError) {
        try self.mutateFaults { faults throws(ProxyError) in
            guard let index = faults.firstIndex(where: { $0.name == name }) else {
                throw ProxyError.faultNotFound(proxy: self.name, fault: name)
            }
            faults.remove(at: index)
        }
        try await self.reconcileListener()
    }

    /// Removes every fault.
    public func removeAllFaults() async throws(ProxyError) {
        try self.mutateFaults { faults in faults.removeAll() }
        try await self.reconcileListener()
    }

    private func mutateFaults(_ change: (inout [Fault]) throws(ProxyError) -> Void) throws(ProxyError) {
        let (faults, version, handles) = try self.shared.withLock { shared throws(ProxyError) in
            try change(&shared.configuration.faults)
            shared.faultsVersion += 1
            return (shared.configuration.faults, shared.faultsVersion, Array(shared.connections.values))
        }
        for handle in handles {
            handle.connection.eventLoop.execute {
                handle.connection.value.apply(faults: faults, version: version)
            }
        }
    }

    // MARK: Network profiles and handoffs

    /// Puts a network profile on the proxy (replacing any earlier one), or removes it when nil. The profile's
    /// latency and bandwidth appear as faults named `profile.<name>.…`, so they are visible and act on live
    /// connections at once.
    public func setProfile(_ profile: NetworkProfile?) async throws(ProxyError) {
        try self.mutateFaults { faults in
            faults = Self.replacingProfileFaults(in: faults, with: profile)
        }
        self.shared.withLock { $0.configuration.profile = profile }
        try await self.reconcileListener()
    }

    /// Simulates a network handoff: cuts every live connection at once (reset, FIN or black hole), makes new
    /// connections fail for the blackout (refused or black-holed), then applies the handoff's profile.
    ///
    /// Returns at once with the report; the blackout ends by itself.
    @discardableResult
    public func handoff(_ handoff: Handoff) async -> HandoffReport {
        let handles = self.shared.withLock { Array($0.connections.values) }
        let report = HandoffReport(
            proxy: self.name,
            startedAtMilliseconds: WallClock.nowMilliseconds(),
            connectionsCut: handles.count,
            handoff: handoff
        )
        self.handoffReports.append(report)
        self.blackoutTask?.cancel()
        if handoff.blackout > .zero {
            self.shared.withLock { $0.blackout = handoff.during }
            if handoff.during == .refuse {
                await self.closeListeners()
            }
        }
        for handle in handles {
            handle.connection.eventLoop.execute {
                let connection = handle.connection.value
                switch handoff.mode {
                case .reset: connection.close(mode: .reset, reason: "handoff")
                case .fin: connection.close(mode: .fin, reason: "handoff")
                case .blackhole: connection.silence()
                }
            }
        }
        if handoff.blackout > .zero {
            self.blackoutTask = Task {
                try? await Task.sleep(for: handoff.blackout)
                guard !Task.isCancelled else { return }
                await self.endBlackout(profile: handoff.profile)
            }
        } else {
            await self.endBlackout(profile: handoff.profile)
        }
        return report
    }

    /// The handoffs so far, oldest first.
    public var handoffs: [HandoffReport] {
        self.handoffReports
    }

    private func endBlackout(profile: NetworkProfile?) async {
        self.shared.withLock { $0.blackout = nil }
        if let profile {
            try? await self.setProfile(profile)
        }
        try? await self.reconcileListener()
    }

    private static func replacingProfileFaults(in faults: [Fault], with profile: NetworkProfile?) -> [Fault] {
        faults.filter { !$0.name.hasPrefix(NetworkProfile.faultPrefix) } + (profile?.faults ?? [])
    }

    // MARK: Connections

    /// The live connections, oldest first.
    public nonisolated var connections: [ProxyConnectionInfo] {
        let (handles, faults) = self.shared.withLock { (Array($0.connections.values), $0.configuration.faults) }
        return handles.sorted { $0.id < $1.id }.map { handle in
            ProxyConnectionInfo(
                id: handle.id,
                clientAddress: handle.clientAddress,
                openedAtMilliseconds: handle.openedAtMilliseconds,
                bytesFromClient: handle.statistics.bytesFromClient.value,
                bytesToServer: handle.statistics.bytesToServer.value,
                bytesFromServer: handle.statistics.bytesFromServer.value,
                bytesToClient: handle.statistics.bytesToClient.value,
                client: handle.origin?.client,
                activeFaults: faults.filter {
                    $0.acts(onConnection: handle.id, origin: handle.origin, proxy: self.name, seeds: self.seeds)
                }
                .map(\.name)
            )
        }
    }

    /// Closes one live connection with a FIN or an RST.
    ///
    /// - Returns: false when no live connection has that id.
    @discardableResult
    public nonisolated func closeConnection(id: UInt64, reset: Bool = false) -> Bool {
        guard let handle = self.shared.withLock({ $0.connections[id] }) else { return false }
        handle.connection.eventLoop.execute {
            handle.connection.value.close(mode: reset ? .reset : .fin, reason: "closed by request")
        }
        return true
    }

    /// Closes every live connection and waits until their sockets are closed.
    ///
    /// - Parameter reset: RST instead of FIN.
    public func closeAllConnections(reset: Bool = false) async {
        await self.closeAllConnections(mode: reset ? .reset : .fin)
    }

    private func closeAllConnections(mode: ProxyConnection.CloseMode) async {
        let handles = self.shared.withLock { Array($0.connections.values) }
        for handle in handles {
            handle.connection.eventLoop.execute {
                handle.connection.value.close(mode: mode, reason: "proxy closing connections")
            }
        }
        for handle in handles {
            try? await handle.channel.closeFuture.get()
        }
    }

    /// The proxy-wide count of requests a `fail_requests` fault has matched, shared by all connections.
    nonisolated func requestCounter(for fault: String) -> Counter {
        self.requestCounters.withLock { counters in
            if let counter = counters[fault] { return counter }
            let counter = Counter()
            counters[fault] = counter
            return counter
        }
    }

    nonisolated func connectionFinished(_ id: UInt64) {
        let removed = self.shared.withLock { $0.connections.removeValue(forKey: id) }
        if removed != nil {
            self.metrics.connectionsActive.add(-1)
            self.metrics.connectionsClosed.add(1)
        }
    }

    // MARK: Listener

    /// Reads of up to 1 MiB: fewer system calls per byte on bulk transfers; small messages still get small
    /// buffers because the allocator adapts.
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 1024 * 1024)

    /// Bytes queued for a socket before the proxy stops reading from the other side: above one full read, so a
    /// bulk transfer does not flip writability on every read.
    static let writeWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 1024 * 1024, high: 4 * 1024 * 1024)

    /// Connections the kernel queues before the proxy accepts them: Linux's default `somaxconn`, so a reconnect
    /// storm of thousands of clients is queued, not dropped (a dropped SYN is retried only after a second, which a
    /// client would count as a slow server).
    static let listenBacklog: Int32 = 4_096

    /// Connections accepted per wake-up of the listener (NIO's default is 4): a storm of connects is drained from
    /// the kernel's queue at once instead of four per loop iteration, which under load left connects waiting for
    /// seconds while every timer still fired on time.
    static let acceptsPerWakeUp: UInt = 256

    private func reconcileListener() async throws(ProxyError) {
        let wanted = self.running && self.isAccepting
        if wanted && self.listeners.isEmpty {
            try await self.bind()
        } else if !wanted, !self.listeners.isEmpty {
            await self.closeListeners()
            await self.closeAllConnections(mode: .fin)
        }
    }

    private func closeListeners() async {
        let listeners = self.listeners
        self.listeners = []
        for listener in listeners {
            try? await listener.close()
        }
    }

    /// Opens one listening socket per event loop on the same port (`SO_REUSEPORT`; the kernel spreads new
    /// connections over them), each accepting connections onto its own loop: a connection never waits for another
    /// thread to be woken before its connect phase starts.
    private func bind() async throws(ProxyError) {
        let (listen, bound) = self.shared.withLock { ($0.configuration.listen, $0.boundAddress) }
        var port = bound?.port ?? listen.port
        let loops = Array(self.group.makeIterator())
        var listeners: [any Channel] = []
        do {
            if bound == nil && port != 0 && loops.count > 1 {
                // SO_REUSEPORT would let this bind share a port another process (of the same user) already
                // listens on, stealing part of its connections: first bind it alone, which fails if it is taken.
                // Only before the proxy has held the port: on a re-bind (after a blackout or `down`) clients are
                // already connecting, and the probe's accept queue would reset them when it closes.
                let probe = try await ServerBootstrap(group: loops[0])
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: listen.bindHost, port: port).get()
                try await probe.close()
            }
            for loop in loops {
                let channel = try await self.bootstrap(on: loop, sharingPort: loops.count > 1)
                    .bind(host: listen.bindHost, port: port).get()
                listeners.append(channel)
                if port == 0, let bound = channel.localAddress?.port { port = bound }
            }
        } catch {
            for listener in listeners { try? await listener.close() }
            throw ProxyError.listenFailed(proxy: self.name, address: listen.description, reason: "\(error)")
        }
        self.listeners = listeners
        self.shared.withLock { $0.boundAddress = listeners.first?.localAddress }
    }

    private func bootstrap(on loop: any EventLoop, sharingPort: Bool) -> ServerBootstrap {
        ServerBootstrap(group: loop, childGroup: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(
                ChannelOptions.Types.SocketOption(
                    level: SocketOptionLevel(SOL_SOCKET),
                    name: SocketOptionName(SO_REUSEPORT)
                ),
                value: sharingPort ? 1 : 0
            )
            .serverChannelOption(.backlog, value: Self.listenBacklog)
            .serverChannelOption(.maxMessagesPerRead, value: Self.acceptsPerWakeUp)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: Self.receiveAllocator)
            .childChannelOption(.writeBufferWaterMark, value: Self.writeWaterMark)
            .serverChannelInitializer { [self] listener in
                listener.eventLoop.makeCompletedFuture {
                    try listener.pipeline.syncOperations.addHandler(
                        AcceptOrderHandler { child in
                            self.shared.withLock { shared in
                                shared.acceptedIDs[ObjectIdentifier(child)] = shared.nextConnectionID
                                shared.nextConnectionID += 1
                            }
                        }
                    )
                }
            }
            .childChannelInitializer { [self] channel in
                // Clients report their port once connected, so the origin may come a moment after the accept.
                guard let origins = self.origins, let port = channel.remoteAddress?.port,
                    let listening = channel.localAddress?.port
                else {
                    return channel.eventLoop.makeCompletedFuture {
                        try self.acceptConnection(channel, origin: nil)
                    }
                }
                return origins.origin(ofPort: port, toPort: listening, on: channel.eventLoop).flatMapThrowing {
                    origin in
                    try self.acceptConnection(channel, origin: origin)
                }
            }
    }

    /// Runs on the new connection's event loop before any byte is read: registers the connection and installs the
    /// handler, so no byte or EOF can be missed.
    private nonisolated func acceptConnection(_ channel: any Channel, origin: ConnectionOrigin?) throws {
        let (id, faults, version, context, blackHoled) = self.shared.withLock { shared in
            let id: UInt64
            if let accepted = shared.acceptedIDs.removeValue(forKey: ObjectIdentifier(channel)) {
                id = accepted
            } else {
                id = shared.nextConnectionID
                shared.nextConnectionID += 1
            }
            let context = LoopContext(
                name: self.name,
                seeds: self.seeds,
                metrics: self.metrics,
                upstream: shared.configuration.upstream,
                upstreamAddress: shared.upstreamAddress,
                connectTimeout: shared.configuration.connectTimeout,
                server: self
            )
            return (id, shared.configuration.faults, shared.faultsVersion, context, shared.blackout == .blackhole)
        }
        let connection = ProxyConnection(
            id: id,
            origin: origin,
            eventLoop: channel.eventLoop,
            proxy: context,
            faults: faults,
            version: version
        )
        if blackHoled {
            connection.silence()
        }
        let handle = ConnectionHandle(
            id: id,
            origin: origin,
            clientAddress: channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown",
            openedAtMilliseconds: WallClock.nowMilliseconds(),
            statistics: connection.statistics,
            channel: channel,
            connection: NIOLoopBound(connection, eventLoop: channel.eventLoop)
        )
        let (latestFaults, latestVersion) = self.shared.withLock { shared in
            shared.connections[id] = handle
            return (shared.configuration.faults, shared.faultsVersion)
        }
        self.metrics.connectionsAccepted.add(1)
        self.metrics.connectionsActive.add(1)
        if latestVersion != version {
            connection.apply(faults: latestFaults, version: latestVersion)
        }
        try channel.pipeline.syncOperations.addHandlers(
            ProxyWireHandler(connection: connection, side: .client),
            HTTPStreamSniffer { isHTTP, sniffer in
                try connection.clientStreamSniffed(isHTTP: isHTTP, sniffer: sniffer)
            },
            ProxyEndpointHandler(connection: connection, side: .client)
        )
    }
}
