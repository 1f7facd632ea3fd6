import NIOCore
import NIOPosix
import SquallFaults

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One client connection through a proxy: the client socket, the server socket and a fault chain per direction.
///
/// The link's lifecycle lives in a ``ProxyLinkStateMachine``; this class holds the sockets, chains and timers and
/// performs the machine's actions. Everything runs on the client socket's event loop (the server socket is opened on
/// the same loop), so the class needs no locks; other threads reach it only through `eventLoop.execute` with an
/// `NIOLoopBound` handle.
final class ProxyConnection {
    /// Which socket of the connection.
    typealias Side = ProxyLinkStateMachine.Side
    /// How a connection is closed.
    typealias CloseMode = ProxyLinkStateMachine.CloseMode

    /// Bytes a chain may hold before the proxy stops reading from the source.
    static let heldBytesLimit = 1 << 20
    /// How long a normal close waits for pending bytes to drain before closing anyway.
    static let closeGracePeriod = TimeAmount.seconds(5)

    let id: UInt64
    /// The client that opened the connection, when it reported its port.
    let origin: ConnectionOrigin?
    let eventLoop: any EventLoop
    let statistics: ConnectionStatistics
    let openedAt: NIODeadline
    private let proxy: ProxyServer.LoopContext
    private var link = ProxyLinkStateMachine()
    private var clientContext: ChannelHandlerContext?
    private var serverContext: ChannelHandlerContext?
    private var upstream: FaultChain!
    private var downstream: FaultChain!
    private var faults: [Fault] = []
    private var faultsVersion: UInt64 = 0
    /// The `block_upgrade` fault whose `blackhole_after_101` will silence the connection once the 101 is delivered.
    var afterUpgradeFault: String?
    private var needsFlush: (client: Bool, server: Bool) = (false, false)
    private var lifetimeTimer: Scheduled<Void>?
    private var lifetimeFault: String?
    /// When a byte last arrived from either side, for `idle_timeout`.
    private var lastActivity = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?
    private var idleFault: String?
    private let requestInspector = HTTPRequestInspector()
    private let responseInspector = HTTPResponseInspector()
    private var burstQueue: [ByteBuffer] = []
    private var burstTimer: Scheduled<Void>?
    private var burstPeriod = TimeAmount.seconds(1)

    /// What happens once the server accepts a WebSocket upgrade (set by `block_upgrade`).
    enum AfterUpgrade {
        /// Deliver nothing more either way; keep the sockets open.
        case blackhole
        /// Hold server frames and release them together every `interval`.
        case buffer(interval: Duration)
    }

    /// Set by `block_upgrade` for the upgrade in flight.
    var afterUpgrade: AfterUpgrade?

    init(
        id: UInt64,
        origin: ConnectionOrigin?,
        eventLoop: any EventLoop,
        proxy: ProxyServer.LoopContext,
        faults: [Fault],
        version: UInt64
    ) {
        self.id = id
        self.origin = origin
        self.eventLoop = eventLoop
        self.proxy = proxy
        self.statistics = ConnectionStatistics()
        self.openedAt = .now()
        self.upstream = nil
        self.downstream = nil
        self.upstream = FaultChain(direction: .upstream, connection: self)
        self.downstream = FaultChain(direction: .downstream, connection: self)
        self.apply(faults: faults, version: version)
    }

    // MARK: Faults

    /// Applies the proxy's fault list to this live connection; an older list than the one applied is ignored, so
    /// changes made in quick succession from different threads cannot arrive out of order.
    func apply(faults: [Fault], version: UInt64) {
        guard version >= self.faultsVersion else { return }
        self.faultsVersion = version
        self.faults = faults
        switch self.link.faultsChanged(isPresent: { name in faults.contains { $0.name == name } }) {
        case .release(let action, let fault):
            // The fault that hung or black-holed it is gone (removed, or `POST /reset`): release both sockets.
            self.perform(action, reason: "fault \(fault) removed")
            return
        case .none:
            return
        case .apply:
            break
        }
        var closeReason: String?
        for chain in [self.upstream!, self.downstream!] {
            let lifted = chain.apply(
                faults: Self.chainFaults(faults, direction: chain.direction),
                isActive: { self.isActive($0) },
                makeStage: { fault, active, chain in
                    if active { self.proxy.metrics.recordApplied(fault) }
                    let context = StageContext(
                        eventLoop: self.eventLoop,
                        random: self.makeRandom(direction: chain.direction, fault: fault.name),
                        chain: chain
                    )
                    return Self.makeStage(fault: fault, isActive: active, context: context)
                }
            )
            if let closing = lifted.first(where: { $0.type.closesWhenLifted }) {
                closeReason = "\(closing.type.rawValue) \(closing.name) lifted"
            }
        }
        self.applyLifetime()
        self.applyIdleTimeout()
        if let closeReason {
            self.close(mode: .fin, reason: closeReason)
        } else {
            self.resumeReads()
        }
    }

    /// The faults of one direction's chain: message faults (on whole requests and frames) first, then byte-stream
    /// faults, each group in creation order.
    private static func chainFaults(_ faults: [Fault], direction: FaultDirection) -> [Fault] {
        let mine = faults.filter { fault in
            if fault.type.actsOnRequests { return direction == .upstream }
            return fault.direction == direction || fault.type.actsBothWays
        }
        return mine.filter { $0.type.phase == .message }
            + mine.filter { $0.type.phase == .stream && $0.type != .limitTime && $0.type != .idleTimeout }
    }

    /// Whether `fault` acts on this connection, by its selectors and the seeded toxicity draw.
    func isActive(_ fault: Fault) -> Bool {
        fault.acts(onConnection: self.id, origin: self.origin, proxy: self.proxy.name, seeds: self.proxy.seeds)
    }

    /// The generator for one fault's random choices on one direction of this connection.
    func makeRandom(direction: FaultDirection, fault: String) -> SeededRandom {
        self.proxy.seeds.stream(
            proxy: self.proxy.name,
            connection: self.origin?.key ?? String(self.id),
            direction: direction,
            fault: fault
        )
    }

    private static func makeStage(fault: Fault, isActive: Bool, context: StageContext) -> FaultStage {
        switch fault.type {
        case .latency: return LatencyStage(fault: fault, isActive: isActive, context: context)
        case .bandwidth: return BandwidthStage(fault: fault, isActive: isActive, context: context)
        case .slicer: return SlicerStage(fault: fault, isActive: isActive, context: context)
        case .slowClose: return SlowCloseStage(fault: fault, isActive: isActive, context: context)
        case .limitData: return LimitDataStage(fault: fault, isActive: isActive, context: context)
        case .timeout, .blackhole: return DropStage(fault: fault, isActive: isActive, context: context)
        case .resetPeer: return ResetPeerStage(fault: fault, isActive: isActive, context: context)
        case .blockUpgrade: return BlockUpgradeStage(fault: fault, isActive: isActive, context: context)
        case .failRequests: return FailRequestsStage(fault: fault, isActive: isActive, context: context)
        case .delayRequests, .delayFrames: return MessageDelayStage(fault: fault, isActive: isActive, context: context)
        case .dropPings, .closeAfterFrames: return FrameFaultStage(fault: fault, isActive: isActive, context: context)
        case .noop, .limitTime, .idleTimeout, .down, .refuse, .slowOpen, .connectBlackhole:
            return FaultStage(fault: fault, isActive: isActive, context: context)
        }
    }

    private func applyLifetime() {
        let lifetimes = self.faults.filter { $0.type == .limitTime && self.isActive($0) }
        let earliest = lifetimes.min { lhs, rhs in
            guard case .limitTime(let left) = lhs.effect, case .limitTime(let right) = rhs.effect else { return false }
            return left < right
        }
        guard let earliest, case .limitTime(let lifetime) = earliest.effect else {
            self.lifetimeTimer?.cancel()
            self.lifetimeTimer = nil
            self.lifetimeFault = nil
            return
        }
        if self.lifetimeFault == earliest.name && self.lifetimeTimer != nil { return }
        self.lifetimeTimer?.cancel()
        if self.lifetimeFault != earliest.name {
            self.proxy.metrics.recordApplied(earliest)
        }
        self.lifetimeFault = earliest.name
        let deadline = self.openedAt + .nanoseconds(lifetime.nanosecondCount)
        self.lifetimeTimer = self.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.lifetimeTimer = nil
            self.close(mode: .fin, reason: "limit_time \(earliest.name)")
        }
    }

    /// Arms the shortest `idle_timeout` acting on this connection (or disarms it when none is left). The timer
    /// is not moved on every byte: when it fires it checks the last activity and, if there was some, sleeps again
    /// until the new deadline.
    private func applyIdleTimeout() {
        let shortest = self.faults.filter { $0.type == .idleTimeout && self.isActive($0) }.min { lhs, rhs in
            guard case .idleTimeout(let left, _) = lhs.effect, case .idleTimeout(let right, _) = rhs.effect else {
                return false
            }
            return left < right
        }
        guard let shortest, case .idleTimeout(let idle, let reset) = shortest.effect else {
            self.idleTimer?.cancel()
            self.idleTimer = nil
            self.idleFault = nil
            return
        }
        if self.idleFault != shortest.name {
            self.proxy.metrics.recordApplied(shortest)
        }
        self.idleFault = shortest.name
        self.idleTimer?.cancel()
        self.scheduleIdleCheck(idle: .nanoseconds(idle.nanosecondCount), reset: reset, fault: shortest.name)
    }

    private func scheduleIdleCheck(idle: TimeAmount, reset: Bool, fault: String) {
        self.idleTimer = self.eventLoop.assumeIsolated().scheduleTask(deadline: self.lastActivity + idle) { [self] in
            self.idleTimer = nil
            if NIODeadline.now() >= self.lastActivity + idle {
                self.close(mode: reset ? .reset : .fin, reason: "idle_timeout \(fault)")
            } else {
                self.scheduleIdleCheck(idle: idle, reset: reset, fault: fault)
            }
        }
    }

    // MARK: Events from the sockets

    func attach(context: ChannelHandlerContext, side: Side) {
        switch side {
        case .client: self.clientContext = context
        case .server: self.serverContext = context
        }
    }

    func channelActive(side: Side) {
        switch side {
        case .client:
            var refusedBy: String?
            let action = self.link.clientActivated { self.connectPlan(refusedBy: &refusedBy) }
            switch action {
            case .none:
                break
            case .readClient:
                self.clientContext?.read()
            case .silenceAndReadClient:
                self.upstream.cancel()
                self.downstream.cancel()
                self.clientContext?.read()
            case .connect(let delay):
                if delay > .zero {
                    self.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay.nanosecondCount)) { [self] in
                        self.connectDue()
                    }
                } else {
                    self.connectDue()
                }
            case .close(let close):
                self.perform(close, reason: "refuse \(refusedBy ?? "")")
            }
        case .server:
            switch self.link.serverActivated() {
            case .deliverPending(let pending):
                for item in pending {
                    self.deliver(item, direction: .upstream, batched: false)
                }
                self.resumeReads()
            case .closeServer(let mode):
                if let context = self.serverContext {
                    Self.close(context, mode: mode)
                }
            case .none:
                break
            }
        }
    }

    /// What the connect-phase faults acting on this connection decide; records each one applied.
    private func connectPlan(refusedBy: inout String?) -> ProxyLinkStateMachine.ConnectPlan {
        var delay = Duration.zero
        for fault in self.faults where fault.type.phase == .connect && self.isActive(fault) {
            self.proxy.metrics.recordApplied(fault)
            switch fault.effect {
            case .refuse:
                refusedBy = fault.name
                return .refuse
            case .connectBlackhole:
                return .blackhole
            case .slowOpen(let wait):
                delay += wait
            default:
                break
            }
        }
        let blocksUpgrades = self.faults.contains { fault in
            guard case .blockUpgrade(let mode, _, _) = fault.effect, self.isActive(fault) else { return false }
            return mode == .reject || mode == .reset || mode == .hang
        }
        return blocksUpgrades && delay == .zero ? .connectOnFirstItem : .connect(after: delay)
    }

    func read(_ buffer: ByteBuffer, from side: Side) {
        let count = buffer.readableBytes
        self.lastActivity = .now()
        switch side {
        case .client:
            self.statistics.bytesFromClient.add(count)
            self.proxy.metrics.bytesUpstream.add(count)
            guard self.link.bytesRead(from: .client) == .forward else { return }
            if self.requestInspector.isPassThrough {
                self.upstream.receive(.data(buffer, receivedAt: .now()), batched: true)
                return
            }
            do {
                let items = try self.requestInspector.feed(buffer, receivedAt: .now())
                for item in items {
                    self.upstream.receive(item, batched: true)
                }
            } catch {
                self.close(mode: .fin, reason: "malformed HTTP from the client")
            }
        case .server:
            self.statistics.bytesFromServer.add(count)
            self.proxy.metrics.bytesDownstream.add(count)
            guard self.link.bytesRead(from: .server) == .forward else { return }
            if self.responseInspector.isPassThrough {
                self.downstream.receive(.data(buffer, receivedAt: .now()), batched: true)
                return
            }
            do {
                let now = NIODeadline.now()
                let (items, upgraded) = try self.responseInspector.feed(buffer, receivedAt: now)
                for item in items {
                    self.downstream.receive(item, batched: true)
                }
                if let upgraded {
                    if !upgraded { self.afterUpgrade = nil }
                    for item in try self.requestInspector.upgradeResolved(switched: upgraded, receivedAt: now) {
                        self.upstream.receive(item, batched: false)
                    }
                }
            } catch {
                self.close(mode: .fin, reason: "malformed answer to a WebSocket upgrade")
            }
        }
    }

    func readComplete(from side: Side) {
        switch side {
        case .client where self.needsFlush.server:
            self.needsFlush.server = false
            self.serverContext?.flush()
        case .server where self.needsFlush.client:
            self.needsFlush.client = false
            self.clientContext?.flush()
        default:
            break
        }
    }

    func inputClosed(side: Side) {
        switch self.link.inputClosed(side: side) {
        case .passEnd(let direction):
            self.chain(direction).receive(.end(.finished), batched: false)
        case .closeSocket(let side):
            self.context(side)?.close(promise: nil)
        case .none:
            break
        }
    }

    func errorCaught(_ error: any Error, side: Side) {
        let isReset = (error as? IOError).map { $0.errnoCode == ECONNRESET || $0.errnoCode == EPIPE } ?? false
        self.link.errorCaught(side: side, isReset: isReset)
    }

    func channelInactive(side: Side) {
        switch side {
        case .client: self.clientContext = nil
        case .server: self.serverContext = nil
        }
        switch self.link.channelInactive(side: side) {
        case .cancelAndPassEnd(let cancelled, let passed, let end):
            self.chain(cancelled).cancel()
            self.chain(passed).receive(.end(end), batched: false)
        case .cancel(let cancelled):
            self.chain(cancelled).cancel()
        case .finish:
            self.finish()
        case .none:
            break
        }
    }

    func writabilityChanged(side: Side, isWritable: Bool) {
        if isWritable {
            self.resumeReads()
        }
    }

    /// Whether the handler of `side` may ask its socket for more bytes now.
    func mayRead(side: Side) -> Bool {
        self.link.readRequested(side: side, flowAllows: self.flowAllowsRead(from: side))
    }

    /// Whether the destination of what `side` sends can take more: its socket is writable (or about to open) and
    /// the chain holds less than the limit.
    private func flowAllowsRead(from side: Side) -> Bool {
        switch side {
        case .client:
            // While the server connect is in progress the client is still read (up to the held-bytes limit), so
            // its first bytes are ready to go the moment the server socket opens.
            let serverReady = self.serverContext.map { $0.channel.isWritable } ?? self.link.serverIsComing
            return serverReady && self.upstream.heldBytes + self.link.pendingBytes < Self.heldBytesLimit
        case .server:
            guard let client = self.clientContext else { return false }
            return client.channel.isWritable && self.downstream.heldBytes < Self.heldBytesLimit
        }
    }

    func chainReleasedBytes(_ direction: FaultDirection) {
        if self.link.isReadHeld(side: direction == .upstream ? .client : .server) {
            self.resumeReads()
        }
    }

    private func resumeReads() {
        // Both figures are taken before the machine is mutated: the flow reads the machine too, and Swift forbids
        // reading a value while it is being modified.
        let client = self.flowAllowsRead(from: .client)
        let server = self.flowAllowsRead(from: .server)
        for side in self.link.readsToResume(client: client, server: server) {
            self.context(side)?.read()
        }
    }

    // MARK: Connect phase

    private func connectDue() {
        switch self.link.connectDue() {
        case .openServerSocket:
            self.openServerSocket()
        case .finish:
            self.finish()
        case .none:
            break
        }
    }

    private func openServerSocket() {
        let loopBound = NIOLoopBound(self, eventLoop: self.eventLoop)
        let bootstrap = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(.nanoseconds(self.proxy.connectTimeout.nanosecondCount))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: ProxyServer.receiveAllocator)
            .channelOption(.writeBufferWaterMark, value: ProxyServer.writeWaterMark)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ProxyEndpointHandler(connection: loopBound.value, side: .server)
                    )
                }
            }
        let future: EventLoopFuture<any Channel>
        if let address = self.proxy.upstreamAddress {
            future = bootstrap.connect(to: address)
        } else {
            future = bootstrap.connect(host: self.proxy.upstream.host, port: self.proxy.upstream.port)
        }
        future.whenFailure { _ in
            // A connect that succeeded is handled by `channelActive(side: .server)`.
            let connection = loopBound.value
            connection.serverContext = nil
            switch connection.link.serverConnectFailed() {
            case .countFailureAndClose(let close):
                connection.proxy.metrics.connectFailures.add(1)
                connection.perform(close, reason: "upstream connect failed")
            case .finish:
                connection.finish()
            case .none:
                break
            }
        }
    }

    // MARK: Delivery

    /// Writes an item that left a chain to its destination socket.
    func deliver(_ item: StreamItem, direction: FaultDirection, batched: Bool) {
        let destination: ChannelHandlerContext
        switch direction {
        case .upstream:
            switch self.link.upstreamItemReady(item) {
            case .write:
                guard let server = self.serverContext else { return }
                destination = server
            case .held:
                return
            case .heldOpenServerSocket:
                self.openServerSocket()
                return
            case .drop:
                return
            }
        case .downstream:
            guard self.link.downstreamItemReady(), let client = self.clientContext else { return }
            destination = client
        }
        switch item {
        case .data(let buffer, _, let unit):
            if direction == .upstream, case .request(let head) = unit, HTTPWire.isWebSocketUpgrade(head) {
                self.responseInspector.expectUpgradeResponse()
            }
            if direction == .downstream, self.burstTimer != nil {
                self.burstQueue.append(buffer)
                self.statistics.bytesToClient.add(buffer.readableBytes)
                self.proxy.metrics.bytesSentDownstream.add(buffer.readableBytes)
                return
            }
            defer {
                if direction == .downstream, case .upgradeResponse(101) = unit {
                    self.upgradeAccepted()
                }
            }
            if direction == .upstream {
                self.statistics.bytesToServer.add(buffer.readableBytes)
                self.proxy.metrics.bytesSentUpstream.add(buffer.readableBytes)
            } else {
                self.statistics.bytesToClient.add(buffer.readableBytes)
                self.proxy.metrics.bytesSentDownstream.add(buffer.readableBytes)
            }
            if batched {
                destination.write(NIOAny(buffer), promise: nil)
                if direction == .upstream { self.needsFlush.server = true } else { self.needsFlush.client = true }
            } else {
                destination.writeAndFlush(NIOAny(buffer), promise: nil)
            }
        case .end(let end):
            switch self.link.endReady(end, direction: direction) {
            case .halfClose:
                destination.flush()
                destination.close(mode: .output, promise: nil)
            case .close(let close):
                destination.flush()
                let reason: String
                switch end {
                case .finished: reason = "both sides finished"
                case .closed: reason = "peer closed"
                case .reset: reason = "peer reset"
                }
                self.perform(close, reason: reason)
            case .none:
                break
            }
        }
    }

    // MARK: Protocol faults

    /// Writes bytes the proxy answers itself (a rejected upgrade, a failed request) straight to the client.
    func answerClient(_ bytes: ByteBuffer, thenClose: Bool) {
        guard let context = self.clientContext else { return }
        self.statistics.bytesToClient.add(bytes.readableBytes)
        self.proxy.metrics.bytesSentDownstream.add(bytes.readableBytes)
        context.writeAndFlush(NIOAny(bytes), promise: nil)
        if thenClose {
            self.close(mode: .fin, reason: "answered by the proxy")
        }
    }

    /// The upgrade request will not reach the server as one (stripped or failed): keep reading HTTP.
    func upgradeWillNotHappen() {
        do {
            for item in try self.requestInspector.upgradeResolved(switched: false, receivedAt: .now()) {
                self.upstream.receive(item, batched: false)
            }
        } catch {
            self.close(mode: .fin, reason: "malformed HTTP from the client")
        }
    }

    /// Counts a request matched by a `fail_requests` fault across the whole proxy; returns its number.
    func countMatchingRequest(fault: String) -> Int {
        self.proxy.server.requestCounter(for: fault).increment()
    }

    /// Ends the WebSocket: a close frame with `code` to both peers (masked toward the server), then the TCP close;
    /// code 1006 is never sent on the wire, so it cuts TCP without a close frame.
    func closeWebSocket(code: Int, reason: String) {
        if code != 1006 {
            if let client = self.clientContext {
                client.writeAndFlush(NIOAny(HTTPWire.encodeCloseFrame(code: code, masked: false)), promise: nil)
            }
            if let server = self.serverContext {
                server.writeAndFlush(NIOAny(HTTPWire.encodeCloseFrame(code: code, masked: true)), promise: nil)
            }
        }
        self.close(mode: .fin, reason: reason)
    }

    /// The server's 101 has been delivered: apply what `block_upgrade` asked for.
    private func upgradeAccepted() {
        switch self.afterUpgrade {
        case .blackhole:
            self.clientContext?.flush()
            self.silence(by: self.afterUpgradeFault)
        case .buffer(let interval):
            self.burstPeriod = TimeAmount.nanoseconds(max(1_000_000, interval.nanosecondCount))
            self.scheduleBurst()
        case nil:
            break
        }
        self.afterUpgrade = nil
    }

    private func scheduleBurst() {
        self.burstTimer = self.eventLoop.assumeIsolated().scheduleTask(in: self.burstPeriod) { [self] in
            guard !self.link.isClosing else { return }
            self.releaseBurst()
            self.scheduleBurst()
        }
    }

    private func releaseBurst() {
        guard let context = self.clientContext, !self.burstQueue.isEmpty else { return }
        for buffer in self.burstQueue {
            context.write(NIOAny(buffer), promise: nil)
        }
        self.burstQueue.removeAll()
        context.flush()
    }

    // MARK: Handoff

    /// Makes the connection half-open for good, as a network handoff leaves it: both sockets stay open, nothing
    /// more is delivered either way, and neither peer is told when the other closes. Before the connect phase (a
    /// connection accepted during a black-holing blackout) it never connects.
    ///
    /// - Parameter fault: the fault that silences it, whose removal releases it (nil for a handoff).
    func silence(by fault: String? = nil) {
        switch self.link.silence(releasedBy: fault) {
        case .silence:
            self.upstream.cancel()
            self.downstream.cancel()
            self.stopConnectionTimers()
            self.resumeReads()
        case .none:
            break
        }
    }

    // MARK: Closing

    /// Closes both sockets.
    func close(mode: CloseMode, reason: String) {
        self.perform(self.link.close(mode: mode), reason: reason)
    }

    private func perform(_ action: ProxyLinkStateMachine.CloseAction, reason: String) {
        switch action {
        case .closeSockets(let mode, let client, let server):
            self.tearDown()
            if client, let context = self.clientContext { Self.close(context, mode: mode) }
            if server, let context = self.serverContext { Self.close(context, mode: mode) }
        case .finish:
            self.finish()
        case .none:
            break
        }
    }

    private static func close(_ context: ChannelHandlerContext, mode: CloseMode) {
        let channel = context.channel
        switch mode {
        case .fin:
            // Let bytes already written reach the socket, then FIN; a peer that never reads cannot keep the
            // connection alive past the grace period.
            context.writeAndFlush(NIOAny(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
            // The backstop must not outlive the socket: a pending timer keeps the channel (and all it holds) in
            // memory for the whole grace period, which under churn is thousands of closed connections.
            let backstop = channel.eventLoop.scheduleTask(in: Self.closeGracePeriod) { channel.close(promise: nil) }
            channel.closeFuture.whenComplete { _ in backstop.cancel() }
        case .reset:
            if let provider = channel as? any SocketOptionProvider {
                _ = provider.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            }
            channel.close(promise: nil)
        }
    }

    /// Stops everything that could still act: inspectors, chains and timers.
    private func tearDown() {
        self.requestInspector.release()
        self.responseInspector.release()
        self.burstTimer?.cancel()
        self.burstTimer = nil
        self.upstream.cancel()
        self.downstream.cancel()
        self.stopConnectionTimers()
    }

    /// Stops the faults' connection-wide timers (`limit_time`, `idle_timeout`).
    private func stopConnectionTimers() {
        self.lifetimeTimer?.cancel()
        self.lifetimeTimer = nil
        self.idleTimer?.cancel()
        self.idleTimer = nil
    }

    /// Every socket is closed: stop everything and tell the proxy.
    private func finish() {
        self.tearDown()
        self.proxy.connectionFinished(self.id)
    }

    private func chain(_ direction: FaultDirection) -> FaultChain {
        direction == .upstream ? self.upstream : self.downstream
    }

    private func context(_ side: Side) -> ChannelHandlerContext? {
        side == .client ? self.clientContext : self.serverContext
    }
}
