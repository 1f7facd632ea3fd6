import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import SquallFaults

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One client connection through a proxy: the client socket, the server socket and two fault chains per direction.
///
/// Each socket's pipeline starts with a ``ProxyWireHandler`` and ends with a ``ProxyEndpointHandler``; between them
/// sit the inspection handlers for what the stream currently is. On the client's: a ``HTTPStreamSniffer``, then NIO's
/// request decoder and a ``HTTPRequestCollector`` while it is HTTP (with NIO's response encoder for the proxy's own
/// answers), frame inspection (``WebSocketFrameCutter``) after an upgrade, or nothing. On the server's: nothing, then
/// NIO's request encoder and a ``ServerAnswerCollector`` from the first request written to it, and frame
/// inspection after a 101. A side with nothing to inspect is *raw*: its wire handler hands the bytes read straight
/// to the connection, which costs a raw stream no pipeline hop. Items read go through the direction's message
/// chain, then (requests encoded in the server's pipeline) its byte chain, then to the destination socket. Which
/// handlers a side has is its ``PipelineShape``, changed only by the transitions that type allows; the proxy's own
/// answers to pipelined requests go out in their turn (``PipelinedExchanges``).
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
    /// The wire handlers' contexts: bytes, flushes and closes go out here, below every encoder.
    private var clientContext: ChannelHandlerContext?
    private var serverContext: ChannelHandlerContext?
    /// The endpoint handlers' contexts: messages written here go through the pipeline's encoders.
    private var clientEndpoint: ChannelHandlerContext?
    private var serverEndpoint: ChannelHandlerContext?
    private var upstreamMessages: FaultChain!
    private var upstreamBytes: FaultChain!
    private var downstreamMessages: FaultChain!
    private var downstreamBytes: FaultChain!
    private var faults: [Fault] = []
    private var faultsVersion: UInt64 = 0
    /// The `block_upgrade` fault whose `blackhole_after_101` will silence the connection once the 101 is delivered.
    var afterUpgradeFault: String?
    private var needsFlush: (client: Bool, server: Bool) = (false, false)
    /// Whether each side's wire handler is handing on a read.
    private var reading: (client: Bool, server: Bool) = (false, false)
    /// What `limit_time` and `idle_timeout` decide for this connection (their rule, shared with the simulator), and
    /// the one timer that asks it again.
    private var limits = ConnectionLimitRule([])
    private var limitTimer: Scheduled<Void>?
    /// When a byte last arrived from either side, for `idle_timeout`.
    private var lastActivity = NIODeadline.now()
    /// The client's request inspection, while its stream is HTTP.
    private var requestCollector: HTTPRequestCollector?
    /// What each side's pipeline inspects its stream as. A raw side's reads go straight into their message chain:
    /// the client's once its sniffer found it is not HTTP, the server's until the first request is written to it.
    private var shapes: (client: PipelineShape, server: PipelineShape) = (.clientStart, .serverStart)
    /// The server's answer inspection, from the first request written until the server switches protocols.
    private var answerCollector: ServerAnswerCollector?
    /// The order of the client's HTTP exchanges, when the proxy answers some itself.
    private var exchanges = PipelinedExchanges()
    /// Requests written to the server, and its answers ended: the difference is the answers still due.
    private var serverRequestsWritten = 0
    private var serverAnswersEnded = 0
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
        self.upstreamMessages = nil
        self.upstreamBytes = nil
        self.downstreamMessages = nil
        self.downstreamBytes = nil
        self.upstreamMessages = FaultChain(direction: .upstream, part: .messages, connection: self)
        self.upstreamBytes = FaultChain(direction: .upstream, part: .bytes, connection: self)
        self.downstreamMessages = FaultChain(direction: .downstream, part: .messages, connection: self)
        self.downstreamBytes = FaultChain(direction: .downstream, part: .bytes, connection: self)
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
        for chain in self.allChains {
            let lifted = chain.apply(
                faults: Self.chainFaults(faults, direction: chain.direction, part: chain.part),
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
        self.applyLimits()
        if let closeReason {
            self.close(mode: .fin, reason: closeReason)
        } else {
            self.resumeReads()
        }
    }

    /// The faults of one part of one direction, in creation order: message faults (on whole requests and frames),
    /// or byte-stream faults.
    private static func chainFaults(_ faults: [Fault], direction: FaultDirection, part: FaultChain.Part) -> [Fault] {
        faults.filter { fault in
            switch (fault.chainPart(in: direction), part) {
            case (.messages?, .messages), (.bytes?, .bytes): true
            case (.messages?, .bytes), (.bytes?, .messages), (nil, _): false
            }
        }
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
        case .latency, .bandwidth, .slicer, .slowClose, .limitData, .timeout, .blackhole, .resetPeer,
            .delayRequests, .delayFrames, .dropPings, .closeAfterFrames, .packetLoss, .tcpLoss,
            .bufferStream, .cutStream, .dropEvents:
            // The fault's meaning is its rule (SquallFaults), carried out here as in the simulator.
            return RuleStage(fault: fault, isActive: isActive, context: context)
        case .blockUpgrade, .failRequests, .stripHeader:
            return RequestRuleStage(fault: fault, isActive: isActive, context: context)
        case .noop, .limitTime, .idleTimeout, .down, .refuse, .slowOpen, .connectBlackhole:
            return FaultStage(fault: fault, isActive: isActive, context: context)
        }
    }

    /// Follows the lifetime faults acting on this connection now (recording each newly acting one as applied), then
    /// checks them.
    private func applyLimits() {
        let rule = ConnectionLimitRule(self.faults.filter { self.isActive($0) })
        for name in rule.acting where !self.limits.acting.contains(name) {
            if let fault = self.faults.first(where: { $0.name == name }) { self.proxy.metrics.recordApplied(fault) }
        }
        self.limits = rule
        self.checkLimits()
    }

    /// Closes the connection when its rule says so, or sets the timer for the next check. The timer is not moved on
    /// every byte: when it fires, the rule looks at the last activity and, if there was some, says when to look again.
    private func checkLimits() {
        self.limitTimer?.cancel()
        self.limitTimer = nil
        let now = NIODeadline.now()
        let sinceOpen = Duration.nanoseconds((now - self.openedAt).nanoseconds)
        let sinceActivity = Duration.nanoseconds((now - self.lastActivity).nanoseconds)
        switch self.limits.check(sinceOpen: sinceOpen, sinceActivity: sinceActivity) {
        case .close(let close, let name):
            let type = self.faults.first { $0.name == name }?.type.rawValue ?? "fault"
            self.close(mode: close == .reset ? .reset : .fin, reason: "\(type) \(name)")
        case .check(let due):
            self.limitTimer = self.eventLoop.assumeIsolated().scheduleTask(
                deadline: self.openedAt + TimeAmount(due)
            ) { [self] in
                self.limitTimer = nil
                self.checkLimits()
            }
        case .none:
            break
        }
    }

    // MARK: Events from the sockets

    /// The endpoint handler of `side` joined its pipeline.
    func attach(context: ChannelHandlerContext, side: Side) {
        switch side {
        case .client: self.clientEndpoint = context
        case .server: self.serverEndpoint = context
        }
    }

    /// The wire handler of `side` joined its pipeline.
    func attachWire(context: ChannelHandlerContext, side: Side) {
        switch side {
        case .client: self.clientContext = context
        case .server: self.serverContext = context
        }
    }

    /// Bytes were read from `side`'s socket. A raw side's go straight into their message chain; returns whether
    /// they go on into the inspection handlers instead (never while the link is silent or closing, or that direction
    /// has ended).
    func bytesArrived(_ buffer: ByteBuffer, from side: Side) -> Bool {
        let now = NIODeadline.now()
        self.lastActivity = now
        let count = buffer.readableBytes
        switch side {
        case .client:
            self.statistics.bytesFromClient.add(count)
            self.proxy.metrics.bytesUpstream.add(count)
        case .server:
            self.statistics.bytesFromServer.add(count)
            self.proxy.metrics.bytesDownstream.add(count)
        }
        guard self.link.bytesRead(from: side) == .forward else { return false }
        guard (side == .client ? self.shapes.client : self.shapes.server).isRaw else { return true }
        self.chain(side == .client ? .upstream : .downstream, .messages).receive(
            .data(buffer, receivedAt: now),
            batched: true
        )
        return false
    }

    /// The wire handler of `side` starts or stops handing on what it read (a read-complete follows, which flushes
    /// what the read made).
    func reading(_ side: Side, _ isReading: Bool) {
        switch side {
        case .client: self.reading.client = isReading
        case .server: self.reading.server = isReading
        }
    }

    /// `count` bytes were written to `side`'s socket: from a byte chain, or by the proxy's own encoders (an
    /// answer, a close frame).
    func countWritten(_ count: Int, to side: Side) {
        switch side {
        case .client:
            self.statistics.bytesToClient.add(count)
            self.proxy.metrics.bytesSentDownstream.add(count)
        case .server:
            self.statistics.bytesToServer.add(count)
            self.proxy.metrics.bytesSentUpstream.add(count)
        }
    }

    /// The client's sniffer told what its stream is: install request inspection (and NIO's response encoder, for
    /// the proxy's own answers) after it, or make the client's side raw.
    func clientStreamSniffed(isHTTP: Bool, sniffer: HTTPStreamSniffer) throws {
        try self.reshape(.client, .sniffed(isHTTP: isHTTP))
        guard isHTTP, let wire = self.clientContext else { return }
        let pipeline = wire.pipeline.syncOperations
        try pipeline.addHandler(HTTPResponseEncoder(), position: .after(wire.handler))
        self.requestCollector = try HTTPRequestCollector.install(after: sniffer, in: pipeline)
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
                self.cancelChains()
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
                    self.enterUpstreamBytes(item, batched: false)
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
        let (decision, acted) = ConnectRule.decide(
            self.faults.filter { $0.type.phase == .connect && self.isActive($0) }
        )
        for fault in acted { self.proxy.metrics.recordApplied(fault) }
        let delay: Duration
        switch decision {
        case .refuse(let fault):
            refusedBy = fault
            return .refuse
        case .blackhole:
            return .blackhole
        case .open(let after):
            delay = after
        }
        let blocksUpgrades = self.faults.contains { fault in
            guard case .blockUpgrade(let mode, _, _) = fault.effect, self.isActive(fault) else { return false }
            return mode == .reject || mode == .reset || mode == .hang
        }
        return blocksUpgrades && delay == .zero ? .connectOnFirstItem : .connect(after: delay)
    }

    /// An item the inspection handlers of `side` made of what they read: it enters its direction's message chain.
    func received(_ item: StreamItem, from side: Side) {
        guard self.link.bytesRead(from: side) == .forward else { return }
        switch side {
        // An item made outside a read of the socket (a decoder leaving hands on what it held) is not followed by
        // a read-complete that would flush it.
        case .client: self.upstreamMessages.receive(item, batched: self.reading.client)
        case .server: self.downstreamMessages.receive(item, batched: self.reading.server)
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
        case .client, .server:
            break
        }
    }

    func inputClosed(side: Side) {
        switch self.link.inputClosed(side: side) {
        case .passEnd(let direction):
            self.chain(direction, .messages).receive(.end(.finished), batched: false)
        case .closeSocket(let side):
            self.context(side)?.close(promise: nil)
        case .none:
            break
        }
    }

    func errorCaught(_ error: any Error, side: Side) {
        guard error is IOError || error is ChannelError else {
            // An inspection handler could not parse what `side` sent as the protocol it started: cut the connection.
            let what = side == .client ? "HTTP or WebSocket from the client" : "answer or frames from the server"
            return self.close(mode: .fin, reason: "malformed \(what)")
        }
        let isReset = (error as? IOError).map { $0.errnoCode == ECONNRESET || $0.errnoCode == EPIPE } ?? false
        self.link.errorCaught(side: side, isReset: isReset)
    }

    func channelInactive(side: Side) {
        switch side {
        case .client:
            self.clientContext = nil
            self.clientEndpoint = nil
        case .server:
            self.serverContext = nil
            self.serverEndpoint = nil
        }
        switch self.link.channelInactive(side: side) {
        case .cancelAndPassEnd(let cancelled, let passed, let end):
            self.chain(cancelled, .messages).cancel()
            self.chain(cancelled, .bytes).cancel()
            self.chain(passed, .messages).receive(.end(end), batched: false)
        case .cancel(let cancelled):
            self.chain(cancelled, .messages).cancel()
            self.chain(cancelled, .bytes).cancel()
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
            let held = self.upstreamMessages.heldBytes + self.upstreamBytes.heldBytes + self.link.pendingBytes
            return serverReady && held < Self.heldBytesLimit
        case .server:
            guard let client = self.clientContext else { return false }
            let held = self.downstreamMessages.heldBytes + self.downstreamBytes.heldBytes
            return client.channel.isWritable && held < Self.heldBytesLimit
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
                    let connection = loopBound.value
                    try channel.pipeline.syncOperations.addHandlers(
                        ProxyWireHandler(connection: connection, side: .server),
                        ProxyEndpointHandler(connection: connection, side: .server)
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

    /// Takes an item that left a message chain: downstream it goes on into the byte chain; upstream the link decides
    /// whether the server's pipeline can take it now.
    func messageLeft(_ item: StreamItem, direction: FaultDirection, batched: Bool) {
        switch direction {
        case .downstream:
            self.downstreamBytes.receive(item, batched: batched)
        case .upstream:
            guard self.exchanges.upstreamItemPasses(item) else { return }
            self.forwardUpstream(item, batched: batched)
        }
    }

    /// Performs what the order of pipelined exchanges released.
    private func perform(_ actions: [PipelinedExchanges.Action]) {
        for action in actions {
            switch action {
            case .forward(let item):
                self.forwardUpstream(item, batched: false)
            case .answer(let answer, let closes):
                self.sendAnswer(answer, closes: closes)
            }
        }
    }

    /// An upstream item's turn came: the link decides whether the server's pipeline can take it now.
    private func forwardUpstream(_ item: StreamItem, batched: Bool) {
        switch self.link.upstreamItemReady(item) {
        case .write:
            self.enterUpstreamBytes(item, batched: batched)
        case .held, .drop:
            return
        case .heldOpenServerSocket:
            self.openServerSocket()
        }
    }

    /// Passes an upstream item into the byte chain; a request is first written through the server's pipeline,
    /// whose `HTTPRequestEncoder` makes the bytes.
    private func enterUpstreamBytes(_ item: StreamItem, batched: Bool) {
        guard case .data(let body, let receivedAt, .request(let head)) = item else {
            return self.upstreamBytes.receive(item, batched: batched)
        }
        guard let encoded = self.encodeRequest(head, body: body) else { return }
        self.upstreamBytes.receive(.data(encoded, receivedAt: receivedAt, unit: .request(head)), batched: batched)
    }

    /// Writes a request through the server's pipeline and returns the bytes NIO's encoder made of it. Before an
    /// upgrade request, the answer's inspection goes in, so its decoder sees the request written.
    private func encodeRequest(_ head: HTTPRequestHead, body: ByteBuffer) -> ByteBuffer? {
        guard let wireContext = self.serverContext, let wire = wireContext.handler as? ProxyWireHandler,
            let endpoint = self.serverEndpoint
        else { return nil }
        let pipeline = endpoint.pipeline.syncOperations
        do {
            let encoder: HTTPRequestEncoder
            if let present = try? pipeline.handler(type: HTTPRequestEncoder.self) {
                encoder = present
            } else {
                encoder = HTTPRequestEncoder()
                try pipeline.addHandler(encoder, position: .after(wireContext.handler))
            }
            try self.inspectAnswer(
                after: encoder,
                in: pipeline,
                upgradeToWebSocket: head.isUpgradeRequest ? head.isWebSocketUpgrade : nil
            )
        } catch {
            self.close(mode: .fin, reason: "could not inspect the server's stream: \(error)")
            return nil
        }
        return wire.capturing {
            endpoint.write(NIOAny(HTTPClientRequestPart.head(head)), promise: nil)
            if body.readableBytes > 0 {
                endpoint.write(NIOAny(HTTPClientRequestPart.body(.byteBuffer(body))), promise: nil)
            }
            endpoint.write(NIOAny(HTTPClientRequestPart.end(nil)), promise: nil)
        }
    }

    /// Puts the answers' inspection into the server's pipeline before the first request, above the request encoder
    /// so its decoder sees every request written (which ends the server side's raw reads); and, before an upgrade
    /// request, has it read the answer closely.
    ///
    /// - Parameter upgradeToWebSocket: for an upgrade request, whether it asks for WebSocket; nil for any other.
    private func inspectAnswer(
        after encoder: HTTPRequestEncoder,
        in pipeline: ChannelPipeline.SynchronousOperations,
        upgradeToWebSocket: Bool?
    ) throws {
        try self.reshape(.server, .requestWritten)
        if self.answerCollector == nil {
            self.answerCollector = try ServerAnswerCollector.install(
                after: encoder,
                in: pipeline,
                // Weak: the connection holds the collector, and a cycle would keep every closed connection.
                answered: { [weak self] status, webSocket in
                    self?.upgradeAnswered(status: status, webSocket: webSocket)
                },
                ended: { [weak self] in
                    guard let self else { return }
                    self.serverAnswersEnded += 1
                    self.perform(self.exchanges.serverAnswerEnded())
                }
            )
        }
        if let webSocket = upgradeToWebSocket {
            self.answerCollector?.expectAnswer(
                webSocket: webSocket,
                answersBefore: self.serverRequestsWritten - self.serverAnswersEnded
            )
        }
        self.serverRequestsWritten += 1
    }

    /// Moves `side`'s pipeline shape on by `event`, or throws when its current shape does not allow that: the
    /// caller then changes no handler and closes the connection.
    private func reshape(_ side: Side, _ event: PipelineShape.Event) throws {
        let current = side == .client ? self.shapes.client : self.shapes.server
        guard let next = current.after(event) else {
            throw PipelineShapeError(side: side, shape: current, event: event)
        }
        switch side {
        case .client: self.shapes.client = next
        case .server: self.shapes.server = next
        }
    }

    /// The server answered an upgrade request. With 101 both streams are WebSocket frames (or another protocol's
    /// bytes) from now on: frame inspection (or plain bytes) replaces request inspection, and each pipeline's HTTP
    /// encoder leaves (making way for NIO's frame encoder, for WebSocket). Otherwise the client's stream goes on as
    /// HTTP.
    private func upgradeAnswered(status: Int, webSocket: Bool) {
        guard status == 101 else {
            self.afterUpgrade = nil
            self.continueHTTP()
            return
        }
        do {
            try self.reshape(.server, .switched(webSocket: webSocket))
            try self.reshape(.client, .switched(webSocket: webSocket))
        } catch {
            return self.close(mode: .fin, reason: "\(error)")
        }
        self.requestCollector?.switchProtocols(toWebSocket: webSocket)
        self.requestCollector = nil
        self.answerCollector = nil
        // No answer is due any more; what the client sent after the upgrade request is the new protocol's.
        defer { self.perform(self.exchanges.serverSwitched()) }
        do {
            if let client = self.clientContext {
                try Self.replaceEncoder(HTTPResponseEncoder.self, after: client, withFrameEncoder: webSocket)
            }
            if let server = self.serverContext {
                try Self.replaceEncoder(HTTPRequestEncoder.self, after: server, withFrameEncoder: webSocket)
            }
        } catch {
            self.close(mode: .fin, reason: "could not inspect the switched protocol: \(error)")
        }
    }

    /// Removes a pipeline's HTTP encoder and, for WebSocket, puts NIO's frame encoder next to the wire handler.
    private static func replaceEncoder<Encoder: ChannelHandler & RemovableChannelHandler>(
        _ type: Encoder.Type,
        after wire: ChannelHandlerContext,
        withFrameEncoder: Bool
    ) throws {
        let pipeline = wire.pipeline.syncOperations
        if let encoder = try? pipeline.handler(type: type) {
            pipeline.removeHandler(encoder, promise: nil)
        }
        if withFrameEncoder {
            try pipeline.addHandler(WebSocketFrameEncoder(), position: .after(wire.handler))
        }
    }

    /// Writes an item that left a byte chain to its destination socket.
    func deliver(_ item: StreamItem, direction: FaultDirection, batched: Bool) {
        let side: Side = direction == .upstream ? .server : .client
        guard self.link.mayDeliver(to: side), let destination = self.context(side) else {
            if case .data(_, _, .proxyAnswer(closes: true)) = item {
                self.close(mode: .fin, reason: "answered by the proxy")
            }
            return
        }
        switch item {
        case .data(let buffer, _, let unit):
            if direction == .downstream, self.burstTimer != nil {
                self.burstQueue.append(buffer)
                self.countWritten(buffer.readableBytes, to: .client)
                return
            }
            defer {
                if direction == .downstream, case .upgradeResponse(101) = unit {
                    self.upgradeAccepted()
                }
                if case .proxyAnswer(closes: true) = unit {
                    self.close(mode: .fin, reason: "answered by the proxy")
                }
            }
            self.countWritten(buffer.readableBytes, to: side)
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

    /// Answers the client's request itself (a rejected upgrade, a failed request) in that request's turn: once
    /// every request the client sent before it has been answered by the server (see ``PipelinedExchanges``).
    func answerClient(_ answer: ProxyAnswer, thenClose: Bool) {
        self.perform(self.exchanges.proxyAnswer(answer, closes: thenClose))
    }

    /// Encodes the proxy's own answer with NIO's response encoder in the client's pipeline and sends it down the
    /// downstream chain, behind the server's answers still in it.
    private func sendAnswer(_ answer: ProxyAnswer, closes: Bool) {
        guard let wireContext = self.clientContext, let wire = wireContext.handler as? ProxyWireHandler,
            let endpoint = self.clientEndpoint
        else {
            // The client is gone: an answer that would close the connection still does.
            if closes { self.close(mode: .fin, reason: "answered by the proxy") }
            return
        }
        let encoded = wire.capturing {
            for part in answer.parts {
                endpoint.write(NIOAny(part), promise: nil)
            }
        }
        self.downstreamMessages.receive(
            .data(encoded, receivedAt: .now(), unit: .proxyAnswer(closes: closes)),
            batched: false
        )
    }

    /// The upgrade request will not reach the server as one (stripped or failed): keep reading HTTP.
    func upgradeWillNotHappen() {
        self.continueHTTP()
    }

    /// The client's stream goes on as HTTP after an upgrade request that did not switch protocols.
    private func continueHTTP() {
        do {
            try self.reshape(.client, .upgradeRefused)
        } catch {
            return self.close(mode: .fin, reason: "\(error)")
        }
        self.requestCollector?.continueHTTP()
    }

    /// Counts a request matched by a `fail_requests` fault across the whole proxy; returns its number.
    func countMatchingRequest(fault: String) -> Int {
        self.proxy.server.requestCounter(for: fault).increment()
    }

    /// Ends the WebSocket: a close frame with `code` to both peers (masked toward the server), then the TCP close;
    /// code 1006 is never sent on the wire, so it cuts TCP without a close frame.
    func closeWebSocket(code: Int, reason: String) {
        if code != 1006 {
            // NIO's frame encoder is in both pipelines once the server switched protocols.
            self.clientEndpoint?.writeAndFlush(NIOAny(Self.closeFrame(code: code, masked: false)), promise: nil)
            self.serverEndpoint?.writeAndFlush(NIOAny(Self.closeFrame(code: code, masked: true)), promise: nil)
        }
        self.close(mode: .fin, reason: reason)
    }

    /// A close frame with `code`, masked when it goes to the server as RFC 6455 requires of clients.
    private static func closeFrame(code: Int, masked: Bool) -> WebSocketFrame {
        var payload = ByteBuffer()
        payload.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: code))
        return WebSocketFrame(
            fin: true,
            opcode: .connectionClose,
            maskKey: masked ? WebSocketMaskingKey.random() : nil,
            data: payload
        )
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
            self.cancelChains()
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

    /// Stops everything that could still act: chains and timers.
    private func tearDown() {
        self.burstTimer?.cancel()
        self.burstTimer = nil
        self.cancelChains()
        self.stopConnectionTimers()
    }

    private func cancelChains() {
        for chain in self.allChains {
            chain.cancel()
        }
    }

    /// Stops the faults' connection-wide timers (`limit_time`, `idle_timeout`).
    private func stopConnectionTimers() {
        self.limitTimer?.cancel()
        self.limitTimer = nil
    }

    /// Every socket is closed: stop everything and tell the proxy.
    private func finish() {
        self.requestCollector = nil
        self.answerCollector = nil
        self.tearDown()
        self.proxy.connectionFinished(self.id)
    }

    private var allChains: [FaultChain] {
        [self.upstreamMessages, self.upstreamBytes, self.downstreamMessages, self.downstreamBytes]
    }

    private func chain(_ direction: FaultDirection, _ part: FaultChain.Part) -> FaultChain {
        switch (direction, part) {
        case (.upstream, .messages): return self.upstreamMessages
        case (.upstream, .bytes): return self.upstreamBytes
        case (.downstream, .messages): return self.downstreamMessages
        case (.downstream, .bytes): return self.downstreamBytes
        }
    }

    private func context(_ side: Side) -> ChannelHandlerContext? {
        side == .client ? self.clientContext : self.serverContext
    }
}
