import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import SquallReferenceProtocol
import SquallServices

/// The hybrid client over real sockets: runs a ``HybridClientStateMachine`` and performs its actions (WebSocket,
/// job-state requests, timers), reporting every step as a ``ClientEvent``.
///
/// ```swift
/// let client = HybridClient(configuration: .init(server: address, jobId: job.jobId, token: job.token))
/// let outcome = await client.run { event in print(event.jsonLine) }
/// ```
///
/// All state lives in ``run(events:)``'s one loop; sockets and timers are child tasks that feed it inputs, so there
/// is nothing shared to lock. Cancelling the task stops the client (it reports `stopped`).
public struct HybridClient: Sendable {
    /// Who the client is and what it follows.
    public struct Configuration: Sendable {
        /// The server (or the proxy in front of it).
        public var server: ServerAddress
        /// The job to follow.
        public var jobId: String
        /// The job's bearer token.
        public var token: String
        /// The client's name in its events; default `client`.
        public var clientId: String
        /// The behaviour; default ``ClientStrategy/resilient``.
        public var strategy: ClientStrategy
        /// Seeds the backoff jitter; default 0.
        public var seed: UInt64
        /// Told the local port of every connection the client opens (a test harness's hook); default none.
        public var sourcePorts: SourcePortObserver?

        /// Creates a configuration.
        public init(
            server: ServerAddress,
            jobId: String,
            token: String,
            clientId: String = "client",
            strategy: ClientStrategy = .resilient,
            seed: UInt64 = 0,
            sourcePorts: SourcePortObserver? = nil
        ) {
            self.server = server
            self.jobId = jobId
            self.token = token
            self.clientId = clientId
            self.strategy = strategy
            self.seed = seed
            self.sourcePorts = sourcePorts
        }
    }

    /// What to follow and how.
    public let configuration: Configuration
    private let eventLoopGroup: any EventLoopGroup

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - configuration: server, job, strategy.
    ///   - eventLoopGroup: the loops its sockets run on.
    public init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
    }

    /// Something a test harness tells a running client.
    public enum Control: Sendable, Hashable {
        /// Freeze the client for this long, as iOS freezes a backgrounded app: no timers fire, nothing is read, no
        /// pings are answered; everything that arrived is handled after.
        case suspend(Duration)
    }

    /// Follows the job until it finishes for this client or the task is cancelled.
    ///
    /// A client runs on one event loop of its group: its sockets, and (as their preferred executor) its tasks, so
    /// what a socket reads is handled on the thread that read it.
    ///
    /// - Parameters:
    ///   - control: instructions while running (suspension); nil for none.
    ///   - events: receives every event, in order, from one task at a time.
    /// - Returns: how the job ended, or nil when the client was stopped first.
    public func run(
        control: AsyncStream<Control>? = nil,
        events: @escaping @Sendable (ClientEvent) -> Void
    ) async -> HybridClientStateMachine.Outcome? {
        let eventLoop = self.eventLoopGroup.next()
        return await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop)) {
            await self.follow(on: eventLoop, control: control, events: events)
        }
    }

    private func follow(
        on eventLoop: any EventLoop,
        control: AsyncStream<Control>?,
        events: @escaping @Sendable (ClientEvent) -> Void
    ) async -> HybridClientStateMachine.Outcome? {
        let (inputs, input) = AsyncStream<Input>.makeStream()
        // Discarding: a client runs for hours, adding a task per link, timer and fetch; a plain task group keeps
        // every finished child until it is read (27 KB a reconnect, 5 MB a handoff of 200 clients).
        return await withDiscardingTaskGroup { group in
            var loop = Loop(client: self, eventLoop: eventLoop, input: input, emit: events)
            if let control {
                group.addTask {
                    for await instruction in control {
                        input.yield(.control(instruction))
                    }
                }
            }
            input.yield(.start)
            for await item in inputs {
                if case .control(.suspend(let duration)) = item {
                    loop.report(.suspended(forMs: duration.milliseconds))
                    try? await eventLoop.sleep(for: duration)
                    loop.report(.resumed)
                    continue
                }
                loop.handle(item, group: &group)
                if loop.outcome != nil { break }
            }
            loop.stop(reason: Task.isCancelled ? "client stopped" : "inputs ended", group: &group)
            input.finish()
            group.cancelAll()
            return loop.outcome
        }
    }
}

extension HybridClient {
    /// Something that happened to the client.
    fileprivate enum Input: Sendable {
        case start
        case control(Control)
        case linkOpened(id: Int, commands: AsyncStream<LinkCommand>.Continuation)
        case driver(HybridClientDriver.Input)
    }

    /// What the loop tells an open WebSocket.
    fileprivate enum LinkCommand: Sendable {
        case sendText(String)
        case pong(ByteBuffer)
        case close
    }

    /// The client's runtime: a ``HybridClientDriver`` whose effects become socket tasks and timers. Only
    /// ``run(control:events:)`` touches it.
    fileprivate struct Loop {
        let client: HybridClient
        /// The loop the client's sockets run on.
        let eventLoop: any EventLoop
        let input: AsyncStream<Input>.Continuation
        let emit: @Sendable (ClientEvent) -> Void
        var driver: HybridClientDriver
        /// Each open link's command queue, by link id.
        var links: [Int: AsyncStream<LinkCommand>.Continuation] = [:]
        /// The driver's clock: milliseconds since the Unix epoch, advanced by the monotonic clock so a wall-clock
        /// step never fires (or starves) a heartbeat.
        let epoch = (wall: ReferenceTime.now(), instant: ContinuousClock.now)

        init(
            client: HybridClient,
            eventLoop: any EventLoop,
            input: AsyncStream<Input>.Continuation,
            emit: @escaping @Sendable (ClientEvent) -> Void
        ) {
            self.client = client
            self.eventLoop = eventLoop
            self.input = input
            self.emit = emit
            self.driver = HybridClientDriver(
                strategy: client.configuration.strategy,
                seed: client.configuration.seed
            )
        }

        var configuration: Configuration { self.client.configuration }
        var strategy: ClientStrategy { self.configuration.strategy }
        var outcome: HybridClientStateMachine.Outcome? { self.driver.outcome }

        /// Now, on the driver's clock.
        var now: Double {
            self.epoch.wall + (ContinuousClock.now - self.epoch.instant).milliseconds
        }

        mutating func handle(_ item: Input, group: inout DiscardingTaskGroup) {
            switch item {
            case .control:
                return
            case .start:
                self.perform(self.driver.handle(.start, now: self.now), group: &group)
            case .linkOpened(let id, let commands):
                self.links[id] = commands
                self.perform(self.driver.handle(.linkOpened(id: id), now: self.now), group: &group)
            case .driver(let input):
                self.perform(self.driver.handle(input, now: self.now), group: &group)
            }
        }

        mutating func perform(_ effects: [HybridClientDriver.Effect], group: inout DiscardingTaskGroup) {
            for effect in effects {
                switch effect {
                case .report(let kind):
                    self.report(kind)
                case .openLink(let id, .sse, let resumeAfter):
                    let (input, client, eventLoop) = (self.input, self.client, self.eventLoop)
                    group.addTask {
                        await client.runEventStream(id: id, resumeAfter: resumeAfter, on: eventLoop, input: input)
                    }
                case .openLink(let id, .websocket, _), .openLink(let id, .polling, _):
                    let (input, client, eventLoop) = (self.input, self.client, self.eventLoop)
                    group.addTask { await client.runLink(id: id, on: eventLoop, input: input) }
                case .sendText(let id, let text):
                    self.links[id]?.yield(.sendText(text))
                case .sendPong(let id, let payload):
                    self.links[id]?.yield(.pong(ByteBuffer(bytes: payload)))
                case .closeLink(let id):
                    self.links.removeValue(forKey: id)?.yield(.close)
                case .startTimer(let timer, let generation, let delay):
                    let (input, eventLoop) = (self.input, self.eventLoop)
                    group.addTask {
                        try? await eventLoop.sleep(for: delay)
                        input.yield(.driver(.timer(timer, generation: generation)))
                    }
                case .fetch(let fetch, let since):
                    let (request, jobId, input) = (self.jobStateRequest, self.configuration.jobId, self.input)
                    group.addTask {
                        input.yield(.driver(.fetched(fetch, await request.fetch(jobId: jobId, since: since))))
                    }
                case .finished:
                    break
                }
            }
        }

        func report(_ kind: ClientEvent.Kind) {
            self.emit(
                ClientEvent(
                    time: self.now,
                    clientId: self.configuration.clientId,
                    jobId: self.configuration.jobId,
                    kind: kind
                )
            )
        }

        /// Stops the client before its job ended: reports `stopped`, closes the current link.
        mutating func stop(reason: String, group: inout DiscardingTaskGroup) {
            self.perform(self.driver.stop(reason: reason), group: &group)
            for commands in self.links.values { commands.yield(.close) }
            self.links = [:]
        }

        private var jobStateRequest: JobStateRequest {
            JobStateRequest(
                exchange: HTTPExchange(
                    server: self.configuration.server,
                    timeout: self.strategy.scaled(self.strategy.requestTimeout),
                    eventLoopGroup: self.eventLoop,
                    sourcePorts: self.configuration.sourcePorts
                ),
                token: self.configuration.token
            )
        }
    }

    /// Opens one WebSocket and pumps it: frames in become inputs, commands out become frames.
    fileprivate func runLink(id: Int, on eventLoop: any EventLoop, input: AsyncStream<Input>.Continuation) async {
        let strategy = self.configuration.strategy
        let socket = ProgressWebSocket(
            server: self.configuration.server,
            token: self.configuration.token,
            timeout: strategy.scaled(strategy.connectTimeout),
            eventLoopGroup: eventLoop,
            sourcePorts: self.configuration.sourcePorts
        )
        let channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>
        switch await socket.open(jobId: self.configuration.jobId) {
        case .failed(let reason):
            input.yield(.driver(.link(id: id, .linkFailed(reason: reason.description))))
            return
        case .opened(let opened):
            channel = opened
        }
        let (commands, queue) = AsyncStream<LinkCommand>.makeStream()
        input.yield(.linkOpened(id: id, commands: queue))
        let ending = try? await channel.executeThenClose { inbound, outbound in
            await withTaskGroup(of: Void.self) { link in
                link.addTask {
                    for await command in commands {
                        switch command {
                        case .sendText(let text):
                            try? await outbound.write(
                                WebSocketFrame(
                                    fin: true,
                                    opcode: .text,
                                    maskKey: .random(),
                                    data: ByteBuffer(string: text)
                                )
                            )
                        case .pong(let data):
                            try? await outbound.write(
                                WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: data)
                            )
                        case .close:
                            var data = ByteBuffer()
                            data.write(webSocketErrorCode: .normalClosure)
                            try? await outbound.write(
                                WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
                            )
                            channel.channel.close(promise: nil)
                            return
                        }
                    }
                }
                let ending = await Self.read(inbound, link: id, input: input, commands: queue)
                queue.finish()
                link.cancelAll()
                return ending
            }
        }
        let (code, reason) = ending ?? (nil, FailureReason.connectionLost(cause: nil).description)
        input.yield(.driver(.link(id: id, .linkClosed(code: code, reason: reason))))
    }

    /// Opens one event stream and reads it: each event's message, and every other block as a sign of life, becomes
    /// an input; the link's only command is to close.
    fileprivate func runEventStream(
        id: Int,
        resumeAfter: Int,
        on eventLoop: any EventLoop,
        input: AsyncStream<Input>.Continuation
    ) async {
        let strategy = self.configuration.strategy
        let stream = ProgressEventStream(
            server: self.configuration.server,
            token: self.configuration.token,
            timeout: strategy.scaled(strategy.connectTimeout),
            eventLoopGroup: eventLoop,
            sourcePorts: self.configuration.sourcePorts
        )
        let (commands, queue) = AsyncStream<LinkCommand>.makeStream()
        let ending = await withTaskGroup(of: Void.self) { link in
            let ending = await stream.run(
                jobId: self.configuration.jobId,
                lastEventId: resumeAfter > 0 ? String(resumeAfter) : nil,
                opened: { close in
                    link.addTask {
                        for await command in commands {
                            switch command {
                            case .close:
                                close()
                                return
                            case .sendText, .pong:
                                continue
                            }
                        }
                    }
                    input.yield(.linkOpened(id: id, commands: queue))
                },
                block: { block in
                    if let event = block.event,
                        let message = try? ProtocolJSON.decode(ProgressMessage.self, from: event.data.utf8)
                    {
                        input.yield(.driver(.link(id: id, .received(message))))
                    } else {
                        input.yield(.driver(.link(id: id, .heartbeat)))
                    }
                }
            )
            queue.finish()
            link.cancelAll()
            return ending
        }
        switch ending {
        case .failed(let reason):
            input.yield(.driver(.link(id: id, .linkFailed(reason: reason.description))))
        case .closed(let reason):
            input.yield(.driver(.link(id: id, .linkClosed(code: nil, reason: reason))))
        }
    }

    /// Reads frames until the stream ends; returns the close code and reason.
    private static func read(
        _ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>,
        link id: Int,
        input: AsyncStream<Input>.Continuation,
        commands: AsyncStream<LinkCommand>.Continuation
    ) async -> (Int?, String) {
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text:
                    let data = frame.unmaskedData
                    let bytes = data.readableBytesView
                    if let message = try? ProtocolJSON.decode(ProgressMessage.self, from: bytes) {
                        input.yield(.driver(.link(id: id, .received(message))))
                    } else if (try? ProtocolJSON.decode(HandshakeMessage.self, from: bytes))?.type == .readyAck {
                        input.yield(.driver(.link(id: id, .heartbeat)))
                    }
                case .ping:
                    input.yield(.driver(.ping(id: id, payload: Array(frame.unmaskedData.readableBytesView))))
                case .pong:
                    input.yield(.driver(.link(id: id, .heartbeat)))
                case .connectionClose:
                    var data = frame.unmaskedData
                    let code = data.readInteger(as: UInt16.self).map(Int.init)
                    let reason = data.readString(length: data.readableBytes) ?? ""
                    commands.yield(.close)
                    return (code, reason.isEmpty ? FailureReason.serverClosed.description : reason)
                default:
                    continue
                }
            }
            return (nil, FailureReason.closedWithoutCloseFrame.description)
        } catch {
            return (nil, FailureReason.connectionLost(cause: FailureReason.cause(of: error)).description)
        }
    }
}
