import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import SquallReferenceProtocol

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
    /// - Parameters:
    ///   - control: instructions while running (suspension); nil for none.
    ///   - events: receives every event, in order, from one task at a time.
    /// - Returns: how the job ended, or nil when the client was stopped first.
    public func run(
        control: AsyncStream<Control>? = nil,
        events: @escaping @Sendable (ClientEvent) -> Void
    ) async -> HybridClientStateMachine.Outcome? {
        let (inputs, input) = AsyncStream<Input>.makeStream()
        return await withTaskGroup(of: Void.self) { group in
            var loop = Loop(client: self, input: input, emit: events)
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
                    try? await Task.sleep(for: duration)
                    loop.report(.resumed)
                    continue
                }
                loop.handle(item, group: &group)
                if loop.outcome != nil { break }
            }
            if loop.outcome == nil {
                loop.report(.stopped(reason: Task.isCancelled ? "client stopped" : "inputs ended"))
            }
            loop.closeLink()
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
        case ping(link: Int, ByteBuffer)
        case linkOpened(id: Int, commands: AsyncStream<LinkCommand>.Continuation)
        case link(id: Int, HybridClientStateMachine.Event)
        case timer(TimerKind, generation: Int)
        case polled(JobStateRequest.Outcome)
        case synced(attempt: Int, JobStateRequest.Outcome)
    }

    /// What the loop tells an open WebSocket.
    fileprivate enum LinkCommand: Sendable {
        case sendText(String)
        case pong(ByteBuffer)
        case close
    }

    fileprivate enum TimerKind: Hashable, Sendable {
        case reconnect, poll, probe, heartbeat
    }

    /// The client's state: the machine, the current WebSocket and the timers. Only ``run(events:)`` touches it.
    fileprivate struct Loop {
        let client: HybridClient
        let input: AsyncStream<Input>.Continuation
        let emit: @Sendable (ClientEvent) -> Void
        var machine: HybridClientStateMachine
        var outcome: HybridClientStateMachine.Outcome?
        var linkCount = 0
        var currentLink: Int?
        var currentAttempt = (attempt: 0, probe: false)
        var commands: AsyncStream<LinkCommand>.Continuation?
        var generations: [TimerKind: Int] = [:]
        var heartbeatDeadline: ContinuousClock.Instant?
        var heartbeatWatcherPending = false

        init(
            client: HybridClient,
            input: AsyncStream<Input>.Continuation,
            emit: @escaping @Sendable (ClientEvent) -> Void
        ) {
            self.client = client
            self.input = input
            self.emit = emit
            self.machine = HybridClientStateMachine(
                strategy: client.configuration.strategy,
                seed: client.configuration.seed
            )
        }

        var configuration: Configuration { self.client.configuration }
        var strategy: ClientStrategy { self.configuration.strategy }

        mutating func handle(_ item: Input, group: inout TaskGroup<Void>) {
            switch item {
            case .control:
                return
            case .ping(let id, let data):
                // Answered from here, not the socket task, so a suspended client stops answering as a frozen app does.
                guard id == self.currentLink else { return }
                self.commands?.yield(.pong(data))
                self.perform(self.machine.handle(.heartbeat), closing: "", group: &group)
            case .start:
                self.perform(self.machine.handle(.start), closing: "", group: &group)
            case .linkOpened(let id, let commands):
                guard id == self.currentLink else {
                    commands.yield(.close)
                    return
                }
                self.commands = commands
                self.report(.connected(attempt: self.currentAttempt.attempt, probe: self.currentAttempt.probe))
                self.perform(self.machine.handle(.webSocketOpened), closing: "not needed any more", group: &group)
            case .link(let id, let event):
                guard id == self.currentLink else { return }
                switch event {
                case .webSocketFailed(let reason):
                    self.report(.connectFailed(reason: reason))
                    self.dropLink()
                case .webSocketClosed(let code, let reason):
                    self.report(.closed(code: code, reason: reason))
                    self.dropLink()
                default:
                    break
                }
                self.perform(self.machine.handle(event), closing: "job finished", group: &group)
            case .timer(.heartbeat, let generation):
                guard generation == self.generations[.heartbeat] else { return }
                self.heartbeatWatcherPending = false
                guard let deadline = self.heartbeatDeadline else { return }
                if ContinuousClock.now >= deadline {
                    self.heartbeatDeadline = nil
                    self.perform(self.machine.handle(.heartbeatExpired), closing: "heartbeat timeout", group: &group)
                } else {
                    self.watchHeartbeat(until: deadline, group: &group)
                }
            case .timer(let kind, let generation):
                guard generation == self.generations[kind] else { return }
                let event: HybridClientStateMachine.Event =
                    switch kind {
                    case .reconnect: .reconnectTimerFired
                    case .poll: .pollTimerFired
                    case .probe, .heartbeat: .probeTimerFired
                    }
                self.perform(self.machine.handle(event), closing: "", group: &group)
            case .polled(let outcome):
                switch outcome {
                case .answered(let state):
                    self.report(.poll(status: 200, messages: state.messages.count, error: nil))
                    self.perform(self.machine.handle(.pollAnswered(state)), closing: "job finished", group: &group)
                case .failed(let status, let reason):
                    self.report(.poll(status: status, messages: 0, error: reason))
                    self.perform(self.machine.handle(.pollFailed(reason: reason)), closing: "", group: &group)
                }
            case .synced(let attempt, let outcome):
                switch outcome {
                case .answered(let state):
                    self.report(.stateSync(attempt: attempt, status: 200, messages: state.messages.count, error: nil))
                    self.perform(self.machine.handle(.stateSyncAnswered(state)), closing: "job finished", group: &group)
                case .failed(let status, let reason):
                    self.report(.stateSync(attempt: attempt, status: status, messages: 0, error: reason))
                    self.perform(self.machine.handle(.stateSyncFailed(reason: reason)), closing: "", group: &group)
                }
            }
        }

        mutating func perform(
            _ actions: [HybridClientStateMachine.Action],
            closing reason: String,
            group: inout TaskGroup<Void>
        ) {
            for action in actions {
                switch action {
                case .connectWebSocket(let attempt, let probe):
                    self.closeLink()
                    self.linkCount += 1
                    self.currentLink = self.linkCount
                    self.currentAttempt = (attempt, probe)
                    self.report(.connectAttempt(attempt: attempt, probe: probe))
                    let (id, input, client) = (self.linkCount, self.input, self.client)
                    group.addTask { await client.runLink(id: id, input: input) }
                case .sendReady(let lastSeq):
                    let ready = String(
                        decoding: ProtocolJSON.encode(HandshakeMessage.ready(lastSeq: lastSeq)),
                        as: UTF8.self
                    )
                    self.commands?.yield(.sendText(ready))
                case .closeWebSocket:
                    if self.commands != nil {
                        self.report(.closed(code: 1000, reason: "client closed: \(reason)"))
                    }
                    self.closeLink()
                case .scheduleReconnect(let attempt, let delay):
                    self.report(.reconnectAttempt(attempt: attempt, delayMs: delay.milliseconds))
                    self.startTimer(.reconnect, after: delay, group: &group)
                case .armHeartbeat(let timeout):
                    let deadline = ContinuousClock.now + timeout
                    self.heartbeatDeadline = deadline
                    if !self.heartbeatWatcherPending {
                        self.watchHeartbeat(until: deadline, group: &group)
                    }
                case .fallBackToPolling(let reason):
                    self.report(.fallback(reason: reason))
                case .poll(let since):
                    let (request, jobId, input) = (self.jobStateRequest, self.configuration.jobId, self.input)
                    group.addTask { input.yield(.polled(await request.fetch(jobId: jobId, since: since))) }
                case .schedulePoll(let delay):
                    self.startTimer(.poll, after: delay, group: &group)
                case .scheduleProbe(let delay):
                    self.startTimer(.probe, after: delay, group: &group)
                case .recoveredToWebSocket:
                    self.report(.recovered)
                case .fetchState(let since, let attempt):
                    let (request, jobId, input) = (self.jobStateRequest, self.configuration.jobId, self.input)
                    group.addTask {
                        input.yield(.synced(attempt: attempt, await request.fetch(jobId: jobId, since: since)))
                    }
                case .deliver(let message, let via):
                    let latency = ReferenceTime.now() - Double(message.timestamp)
                    self.report(.delivered(seq: message.seq, via: via, latencyMs: latency, type: message.type))
                case .dropDuplicate(let seq):
                    self.report(.duplicateDropped(seq: seq))
                case .finish(let outcome):
                    self.report(.finished(outcome: outcome))
                    self.outcome = outcome
                }
            }
        }

        func report(_ kind: ClientEvent.Kind) {
            self.emit(
                ClientEvent(
                    time: ReferenceTime.now(),
                    clientId: self.configuration.clientId,
                    jobId: self.configuration.jobId,
                    kind: kind
                )
            )
        }

        /// Closes the current WebSocket (if open) and forgets it: its later events are ignored.
        mutating func closeLink() {
            self.commands?.yield(.close)
            self.dropLink()
        }

        private mutating func dropLink() {
            self.commands = nil
            self.currentLink = nil
            self.heartbeatDeadline = nil
        }

        private var jobStateRequest: JobStateRequest {
            JobStateRequest(
                exchange: HTTPExchange(
                    server: self.configuration.server,
                    timeout: self.strategy.scaled(self.strategy.requestTimeout),
                    eventLoopGroup: self.client.eventLoopGroup,
                    sourcePorts: self.configuration.sourcePorts
                ),
                token: self.configuration.token
            )
        }

        private mutating func startTimer(_ kind: TimerKind, after delay: Duration, group: inout TaskGroup<Void>) {
            let generation = (self.generations[kind] ?? 0) + 1
            self.generations[kind] = generation
            let input = self.input
            group.addTask {
                try? await Task.sleep(for: delay)
                input.yield(.timer(kind, generation: generation))
            }
        }

        private mutating func watchHeartbeat(until deadline: ContinuousClock.Instant, group: inout TaskGroup<Void>) {
            let generation = (self.generations[.heartbeat] ?? 0) + 1
            self.generations[.heartbeat] = generation
            self.heartbeatWatcherPending = true
            let input = self.input
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                input.yield(.timer(.heartbeat, generation: generation))
            }
        }
    }

    /// Opens one WebSocket and pumps it: frames in become inputs, commands out become frames.
    fileprivate func runLink(id: Int, input: AsyncStream<Input>.Continuation) async {
        let strategy = self.configuration.strategy
        let socket = ProgressWebSocket(
            server: self.configuration.server,
            token: self.configuration.token,
            timeout: strategy.scaled(strategy.connectTimeout),
            eventLoopGroup: self.eventLoopGroup,
            sourcePorts: self.configuration.sourcePorts
        )
        let channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>
        switch await socket.open(jobId: self.configuration.jobId) {
        case .failed(let reason):
            input.yield(.link(id: id, .webSocketFailed(reason: reason)))
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
        let (code, reason) = ending ?? (nil, "connection lost")
        input.yield(.link(id: id, .webSocketClosed(code: code, reason: reason)))
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
                        input.yield(.link(id: id, .received(message)))
                    } else if (try? ProtocolJSON.decode(HandshakeMessage.self, from: bytes))?.type == .readyAck {
                        input.yield(.link(id: id, .heartbeat))
                    }
                case .ping:
                    input.yield(.ping(link: id, frame.unmaskedData))
                case .pong:
                    input.yield(.link(id: id, .heartbeat))
                case .connectionClose:
                    var data = frame.unmaskedData
                    let code = data.readInteger(as: UInt16.self).map(Int.init)
                    let reason = data.readString(length: data.readableBytes) ?? ""
                    commands.yield(.close)
                    return (code, reason.isEmpty ? "server closed" : reason)
                default:
                    continue
                }
            }
            return (nil, "connection closed without a close frame")
        } catch {
            return (nil, "connection lost: \(ConnectionFailure.describe(error))")
        }
    }
}
