import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import SquallReferenceProtocol
import SquallServices
import Synchronization

/// The job-progress server of the seeds: jobs that publish progress messages on a timer, pushed over WebSocket
/// (`GET /ws/progress`, with the `ready`/`ready_ack` handshake and replay after `lastSeq`) and readable by polling
/// (`GET /api/job-state/{jobId}?since=N`).
///
/// ```swift
/// let server = try await ReferenceServer.bind(configuration: .init(port: 8080))
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { await server.run() }
///     let job = server.createJob(JobCreation(totalItems: 10))
///     …
///     await server.close()
/// }
/// ```
///
/// One accept loop in a discarding task group; each connection is served by its own child task, a job's timer by
/// another. Nothing a client sends can stop the listener.
public final class ReferenceServer: Sendable {
    /// What a new connection turned into.
    enum Negotiated: Sendable {
        /// An upgraded progress stream for a job.
        case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, jobId: String)
        /// Plain HTTP; `refusedUpgrade` is the head of an upgrade request that was refused, which NIO does not
        /// replay (apple/swift-nio#2632), so it is answered from here.
        case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, refusedUpgrade: HTTPRequestHead?)
    }

    /// The address the server listens on.
    public let localAddress: SocketAddress
    /// The configuration it runs with.
    public let configuration: ReferenceServerConfiguration
    private let listener: NIOAsyncChannel<EventLoopFuture<Negotiated>, Never>
    private let store: JobStore
    private let router: ReferenceRouter
    private let events: @Sendable (ReferenceServerEvent) -> Void
    /// Open connections from the moment they are accepted, so ``close()`` ends them instead of waiting for their
    /// clients — also one that connected and never sent a byte.
    private let connections: ConnectionRegistry
    /// Where the server is in its lifecycle.
    private let lifecycle = ServerLifecycle()
    /// The loops the server's connections and jobs run on.
    private let eventLoopGroup: any EventLoopGroup

    private init(
        listener: NIOAsyncChannel<EventLoopFuture<Negotiated>, Never>,
        connections: ConnectionRegistry,
        configuration: ReferenceServerConfiguration,
        store: JobStore,
        router: ReferenceRouter,
        eventLoopGroup: any EventLoopGroup,
        events: @escaping @Sendable (ReferenceServerEvent) -> Void
    ) {
        self.listener = listener
        self.eventLoopGroup = eventLoopGroup
        self.connections = connections
        self.localAddress = listener.channel.localAddress!
        self.configuration = configuration
        self.store = store
        self.router = router
        self.events = events
    }

    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    public var baseURL: String {
        "http://\(self.configuration.host):\(self.localAddress.port ?? 0)"
    }

    /// Binds the server; call ``run()`` to serve.
    ///
    /// - Parameters:
    ///   - configuration: address and keep-alive timings.
    ///   - eventLoopGroup: the loops to run on.
    ///   - events: receives every ``ReferenceServerEvent`` (called from many threads; keep it quick).
    /// - Throws: when the address cannot be bound.
    public static func bind(
        configuration: ReferenceServerConfiguration = ReferenceServerConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        events: @escaping @Sendable (ReferenceServerEvent) -> Void = { _ in }
    ) async throws -> ReferenceServer {
        let store = JobStore(retention: configuration.retention)
        let router = ReferenceRouter(store: store, events: events, maximumBodySize: configuration.maximumBodySize)
        let connections = ConnectionRegistry()
        let idleTimeout = TimeAmount(configuration.idleTimeout)
        let listener = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: Int32(clamping: configuration.listenBacklog))
            .serverChannelOption(.maxMessagesPerRead, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    connections.register(channel)
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    return try Self.configure(channel, router: router)
                }
            }
        return ReferenceServer(
            listener: listener,
            connections: connections,
            configuration: configuration,
            store: store,
            router: router,
            eventLoopGroup: eventLoopGroup,
            events: events
        )
    }

    /// Creates a job in-process, as `POST /api/jobs` does; it starts once ``run()`` runs.
    ///
    /// - Parameter creation: items and pace.
    /// - Returns: the job id and its token.
    public func createJob(_ creation: JobCreation) -> JobCreation.Created {
        self.router.create(creation)
    }

    /// Serves connections and runs jobs until ``close()`` is called or the task running it is cancelled (the
    /// swift-service-lifecycle `run()` shape): then it stops accepting, ends every stream (close 1001), gives open
    /// connections ``ReferenceServerConfiguration/drainDeadline`` to finish and closes the rest. A second call returns
    /// at once.
    public func run() async {
        guard self.lifecycle.run() == .serve else { return }
        await withTaskCancellationHandler {
            await self.serve()
        } onCancel: {
            Task { await self.close() }
        }
    }

    private func serve() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await withDiscardingTaskGroup { jobs in
                    for await ticket in self.store.tickets {
                        // A job's timer runs on a loop too, so its sleeps need no other thread.
                        let loop = self.eventLoopGroup.next()
                        jobs.addTask(executorPreference: EventLoopTaskExecutor(loop)) {
                            await self.runJob(ticket, on: loop)
                        }
                    }
                    jobs.cancelAll()
                }
            }
            try? await self.listener.executeThenClose { inbound in
                for try await negotiation in inbound {
                    // A connection's task runs on its channel's loop (see EventLoopTaskExecutor).
                    group.addTask(executorPreference: EventLoopTaskExecutor(negotiation.eventLoop)) {
                        await self.serve(negotiation)
                    }
                }
            }
            self.store.shutDown()
        }
    }

    /// Restarts the WebSocket side: every open stream ends with close 1012 (service restart) and upgrades are
    /// refused with 503 for `downtime`; jobs keep running, so reconnecting clients resume from `lastSeq`.
    ///
    /// - Parameter downtime: how long upgrades are refused.
    public func restartStreams(downtime: Duration = .zero) {
        self.store.restartStreams(downtime: downtime)
    }

    /// Stops listening, ends every stream (close 1001), gives open connections the drain deadline to close, then
    /// closes the rest and stops the jobs; ``run()`` then returns. Returns once all of that is done, however many
    /// times it is called.
    public func close() async {
        let store = self.store
        await self.lifecycle.shutDown(
            listener: self.listener.channel,
            connections: self.connections,
            drainDeadline: self.configuration.drainDeadline,
            stopping: { store.shutDown() }
        )
    }
}

extension ReferenceServer {
    private static func configure(_ channel: any Channel, router: ReferenceRouter) throws -> EventLoopFuture<Negotiated>
    {
        let refusedUpgrade = NIOLoopBoundBox<HTTPRequestHead?>(nil, eventLoop: channel.eventLoop)
        let upgrader = NIOTypedWebSocketServerUpgrader<Negotiated>(
            maxFrameSize: 1 << 16,
            shouldUpgrade: { channel, head in
                if router.upgradeTarget(for: head) != nil {
                    return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                }
                refusedUpgrade.value = head
                return channel.eventLoop.makeSucceededFuture(nil)
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    // Frames, not HTTP, from here on.
                    channel.pipeline.syncOperations.removeHandler(name: UpgradeHeadRecorder.name, promise: nil)
                    channel.pipeline.syncOperations.removeHandler(name: MalformedRequestResponder.name, promise: nil)
                    // Checked frame by frame, before the aggregator drops each fragment's mask.
                    try channel.pipeline.syncOperations.addHandler(ClientFrameValidator())
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0,
                            maxAccumulatedFrameCount: 64,
                            maxAccumulatedFrameSize: 1 << 20
                        )
                    )
                    let jobId = router.upgradeTarget(for: head) ?? ""
                    return .webSocket(try NIOAsyncChannel(wrappingChannelSynchronously: channel), jobId: jobId)
                }
            }
        )
        let configuration = NIOTypedHTTPServerUpgradeConfiguration<Negotiated>(
            upgraders: [upgrader],
            notUpgradingCompletionHandler: { channel in
                channel.eventLoop.makeCompletedFuture {
                    .http(
                        try NIOAsyncChannel(wrappingChannelSynchronously: channel),
                        refusedUpgrade: refusedUpgrade.value
                    )
                }
            }
        )
        var pipeline = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: configuration)
        // Malformed HTTP is answered here, with the JSON error body every other error has, not by NIO's handler
        // (an empty 400).
        pipeline.enableErrorHandling = false
        let negotiation = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
            configuration: pipeline
        )
        let upgradeHandler = try channel.pipeline.syncOperations.context(
            handlerType: NIOTypedHTTPServerUpgradeHandler<Negotiated>.self
        )
        try channel.pipeline.syncOperations.addHandler(
            MalformedRequestResponder(),
            name: MalformedRequestResponder.name,
            position: .before(upgradeHandler.handler)
        )
        try channel.pipeline.syncOperations.addHandler(
            UpgradeHeadRecorder(head: refusedUpgrade),
            name: UpgradeHeadRecorder.name,
            position: .before(upgradeHandler.handler)
        )
        // NIO refused the upgrade itself (no key, an unsupported version), or the first request was not HTTP: answer
        // 400 and close, never leave the client waiting.
        negotiation.whenFailure { error in
            // Only while the pipeline still speaks HTTP; past that point there is nothing to answer in.
            guard channel.isActive,
                (try? channel.pipeline.syncOperations.handler(type: HTTPResponseEncoder.self)) != nil
            else {
                channel.close(promise: nil)
                return
            }
            let message = error is HTTPParserError ? "malformed HTTP request" : "invalid WebSocket upgrade request"
            let parts = Self.parts(
                of: ReferenceResponse.error(.badRequest(message)),
                version: refusedUpgrade.value?.version ?? .http1_1,
                keepAlive: false
            )
            for part in parts.dropLast() { channel.write(part, promise: nil) }
            channel.writeAndFlush(parts.last!).whenComplete { _ in channel.close(promise: nil) }
        }
        return negotiation
    }

    private func serve(_ negotiation: EventLoopFuture<Negotiated>) async {
        guard let negotiated = try? await negotiation.get() else { return }
        switch negotiated {
        case .webSocket(let channel, let jobId):
            await ProgressStreamSession(
                jobId: jobId,
                store: self.store,
                configuration: self.configuration,
                events: self.events
            ).serve(channel)
        case .http(let channel, let refusedUpgrade):
            await self.serveHTTP(channel, pendingHead: refusedUpgrade)
        }
    }

    private func serveHTTP(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>,
        pendingHead: HTTPRequestHead?
    ) async {
        let limit = self.configuration.maximumBodySize
        try? await connection.executeThenClose { inbound, outbound in
            var head = pendingHead
            var body: [UInt8] = []
            var tooLarge = false
            var parts = inbound.makeAsyncIterator()
            do {
                while let part = try await parts.next() {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body.removeAll(keepingCapacity: true)
                        tooLarge = false
                    case .body(let chunk):
                        if body.count + chunk.readableBytes > limit {
                            tooLarge = true
                        } else if !tooLarge {
                            body += chunk.readableBytesView
                        }
                    case .end:
                        guard let requestHead = head else { continue }
                        if case .success(let stream)? = self.router.eventStream(for: requestHead), !tooLarge {
                            return await self.serveEventStream(
                                stream,
                                version: requestHead.version,
                                rest: &parts,
                                outbound: outbound,
                                channel: connection.channel
                            )
                        }
                        let response =
                            tooLarge
                            ? ReferenceResponse.error(.payloadTooLarge(limit: limit))
                            : self.router.respond(to: requestHead, body: body)
                        // A refused upgrade leaves the connection in an unknown protocol state: close it.
                        let keepAlive = requestHead.isKeepAlive && !tooLarge && requestHead != pendingHead
                        try await Self.write(response, version: requestHead.version, keepAlive: keepAlive, to: outbound)
                        if !keepAlive { return }
                        head = nil
                    }
                }
            } catch is HTTPParserError {
                let response = ReferenceResponse.error(.badRequest("malformed HTTP request"))
                try? await Self.write(response, version: .http1_1, keepAlive: false, to: outbound)
            }
        }
    }

    /// Answers with an event stream until it ends, reading the connection's remaining requests only to learn
    /// when the client leaves (a request pipelined behind a stream is never answered: the stream holds the
    /// connection until it closes).
    private func serveEventStream(
        _ stream: EventStreamRequest,
        version: HTTPVersion,
        rest parts: inout NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        channel: any Channel
    ) async {
        // The read-idle timeout is for silent connections; an event stream's client says nothing after its request
        // while the server writes (keep-alives at least every ping interval), so it no longer applies.
        try? await channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            pipeline.removeHandler(context: try pipeline.context(handlerType: IdleStateHandler.self), promise: nil)
        }.get()
        let (inputs, input) = AsyncStream<EventStreamSession.Input>.makeStream()
        let session = EventStreamSession(
            jobId: stream.jobId,
            lastEventId: stream.lastEventId,
            store: self.store,
            configuration: self.configuration,
            events: self.events
        )
        await withDiscardingTaskGroup { group in
            group.addTask {
                await session.serve(
                    inputs: inputs,
                    input: input,
                    version: version,
                    outbound: outbound,
                    channel: channel
                )
            }
            // The session closes the channel when the stream ends, which ends this read too.
            do {
                while try await parts.next() != nil {}
                input.yield(.event(.peerGone(reason: FailureReason.clientDisconnected.description)))
            } catch {
                let cause = FailureReason.cause(of: error)
                input.yield(.event(.peerGone(reason: FailureReason.connectionLost(cause: cause).description)))
            }
        }
    }

    private static func write(
        _ response: ReferenceResponse,
        version: HTTPVersion,
        keepAlive: Bool,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        try await outbound.write(contentsOf: Self.parts(of: response, version: version, keepAlive: keepAlive))
    }

    /// A response as HTTP parts: its head (JSON content type, length, `Connection`), its body, the end.
    static func parts(
        of response: ReferenceResponse,
        version: HTTPVersion,
        keepAlive: Bool
    ) -> [HTTPServerResponsePart] {
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        return [
            .head(HTTPResponseHead(version: version, status: response.status, headers: headers)),
            .body(.byteBuffer(ByteBuffer(bytes: response.body))),
            .end(nil),
        ]
    }

    /// Runs a job as its board says: each item published when due (deadline-based, so a late wake-up does not delay
    /// later items), then the finished job forgotten when its retention is over.
    private func runJob(_ ticket: JobStore.Ticket, on loop: any EventLoop) async {
        var next = ticket.first
        while true {
            switch next {
            case .publish(let item, let due):
                do {
                    try await loop.sleep(until: due)
                } catch {
                    return
                }
                let time = ReferenceServerEvent.now()
                guard let publication = self.store.publish(jobId: ticket.jobId, item: item, time: time) else { return }
                self.events(
                    ReferenceServerEvent(
                        time: time,
                        jobId: ticket.jobId,
                        kind: .published(seq: publication.message.seq, type: publication.message.type)
                    )
                )
                next = publication.next
            case .expire(let due):
                do {
                    try await loop.sleep(until: due)
                } catch {
                    return
                }
                self.store.expire(jobId: ticket.jobId)
                self.events(
                    ReferenceServerEvent(time: ReferenceServerEvent.now(), jobId: ticket.jobId, kind: .jobExpired)
                )
                return
            }
        }
    }
}
