import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer

/// One reference client in the simulation: the same ``HybridClientDriver`` (and so the same
/// ``HybridClientStateMachine``, strategy, timers and reports) as ``HybridClient``, its effects performed over
/// simulated connections through its group's proxy on the virtual clock.
final class SimulatedClient {
    /// A push link of the client's: a WebSocket (`stream`) or an event stream (`eventStream`).
    private struct Link {
        var connection: SimulatedConnection
        var isOpen = false
        var stream: SimulatedStream?
        var eventStream: SimulatedEventStream?
    }

    let id: String
    let jobId: String
    /// The job's bearer token, sent with every request as the real client sends it.
    let token: String
    private var driver: HybridClientDriver
    private let proxy: SimulatedProxy
    private let server: SimulatedServer
    private let log: SimulationLog
    private let scheduler: SimulationScheduler
    private var links: [Int: Link] = [:]
    private var suspendedUntil: Double?
    private var waiting: [HybridClientDriver.Input] = []
    /// Whether the job is over for the client (finished, or stopped by the end of the run).
    private(set) var isDone = false

    init(
        id: String,
        jobId: String,
        token: String,
        strategy: ClientStrategy,
        seed: UInt64,
        proxy: SimulatedProxy,
        server: SimulatedServer,
        log: SimulationLog,
        scheduler: SimulationScheduler
    ) {
        self.id = id
        self.jobId = jobId
        self.token = token
        self.driver = HybridClientDriver(strategy: strategy, seed: seed)
        self.proxy = proxy
        self.server = server
        self.log = log
        self.scheduler = scheduler
    }

    private var strategy: ClientStrategy { self.driver.strategy }

    /// Starts the client now.
    func start() {
        self.input(.start)
    }

    /// Freezes the client for `duration` ms, as iOS freezes a backgrounded app: what arrives meanwhile (frames,
    /// answers, its own timers) is handled after.
    func suspend(for duration: Double) {
        guard !self.isDone, self.suspendedUntil == nil else { return }
        self.log.client(self.id, jobId: self.jobId, .suspended(forMs: duration))
        self.suspendedUntil = self.scheduler.now + duration
        self.scheduler.after(duration) { [self] in
            self.suspendedUntil = nil
            guard !self.isDone else { return }
            self.log.client(self.id, jobId: self.jobId, .resumed)
            let queued = self.waiting
            self.waiting = []
            for input in queued { self.input(input) }
        }
    }

    /// Stops the client at the end of the run (it reports `stopped` when its job had not ended).
    func stop() {
        guard !self.isDone else { return }
        self.perform(self.driver.stop(reason: FailureReason.clientStopped.description))
        self.isDone = true
    }

    private func input(_ input: HybridClientDriver.Input) {
        guard !self.isDone else { return }
        if self.suspendedUntil != nil {
            self.waiting.append(input)
            return
        }
        self.perform(self.driver.handle(input, now: self.scheduler.now))
    }

    private func perform(_ effects: [HybridClientDriver.Effect]) {
        for effect in effects {
            switch effect {
            case .report(let kind):
                self.log.client(self.id, jobId: self.jobId, kind)
            case .openLink(let id, .websocket, _), .openLink(let id, .polling, _):
                self.open(link: id, eventStream: false) { [self] connection in
                    self.sendUpgrade(link: id, over: connection)
                }
            case .openLink(let id, .sse, let resumeAfter):
                self.open(link: id, eventStream: true) { [self] connection in
                    self.requestEventStream(link: id, over: connection, resumeAfter: resumeAfter)
                }
            case .sendText(let id, let text):
                guard let link = self.links[id], let stream = link.stream else { break }
                link.connection.send(.upstream, size: text.utf8.count + 6, .frame(.text)) {
                    stream.receive(.text(text))
                }
            case .sendPong(let id, _):
                guard let link = self.links[id], let stream = link.stream else { break }
                link.connection.send(.upstream, size: 8, .frame(.pong)) { [scheduler] in
                    stream.receive(.pong(now: scheduler.now))
                }
            case .closeLink(let id):
                guard let link = self.links.removeValue(forKey: id) else { break }
                if link.eventStream != nil {
                    // The client closes its socket: the server reads the end.
                    link.connection.cut(.closed)
                } else if link.isOpen, let stream = link.stream {
                    link.connection.send(.upstream, size: 8, .frame(.close)) { stream.receive(.peerClose(code: 1000)) }
                } else {
                    link.connection.close()
                }
            case .startTimer(let timer, let generation, let delay):
                self.scheduler.after(delay.simulationMilliseconds) { [self] in
                    self.input(.timer(timer, generation: generation))
                }
            case .fetch(let fetch, let since):
                self.send(fetch, since: since)
            case .finished:
                self.isDone = true
            }
        }
    }

    // MARK: WebSocket

    /// Opens a push link's connection (a WebSocket's, or an event stream's); `request` sends its first request once
    /// the connection is up. Failures read as the real client's link reports them.
    private func open(
        link id: Int,
        eventStream: Bool,
        request: @escaping (SimulatedConnection) -> Void
    ) {
        let (connection, establishment) = self.proxy.connect(client: self.id)
        self.links[id] = Link(connection: connection)
        let timeout = self.strategy.scaled(self.strategy.connectTimeout).simulationMilliseconds
        self.scheduler.after(timeout) { [self] in
            guard let link = self.links[id], !link.isOpen else { return }
            self.links[id] = nil
            link.connection.close()
            let reason: FailureReason = eventStream ? .requestTimedOut : .upgradeTimedOut
            self.input(.link(id: id, .linkFailed(reason: reason.description)))
        }
        connection.clientLost = { [unowned self] ending in
            guard let link = self.links.removeValue(forKey: id) else { return }
            // As each real reader words it: a WebSocket's reader or the event stream's.
            let reason: FailureReason =
                switch (link.isOpen, ending, request: eventStream) {
                case (true, .reset, _): .connectionLost(cause: .reset)
                case (true, .closed, request: false): .closedWithoutCloseFrame
                case (true, .closed, request: true): .connectionLost(cause: nil)
                case (false, .reset, _): .connectionReset
                case (false, .closed, request: false): .connectionClosed
                case (false, .closed, request: true): .closedBeforeAnswer
                }
            self.input(
                .link(
                    id: id,
                    link.isOpen
                        ? .linkClosed(code: nil, reason: reason.description)
                        : .linkFailed(reason: reason.description)
                )
            )
        }
        switch establishment {
        case .refused:
            self.failLink(id, .connectionRefused)
        case .reset:
            self.failLink(id, .connectionReset)
        case .hang:
            break
        case .open(let delay):
            self.scheduler.after(delay) { request(connection) }
        }
    }

    private func failLink(_ id: Int, _ reason: FailureReason) {
        self.scheduler.after(0) { [self] in
            guard let link = self.links.removeValue(forKey: id) else { return }
            link.connection.close()
            self.input(.link(id: id, .linkFailed(reason: reason.description)))
        }
    }

    private func sendUpgrade(link id: Int, over connection: SimulatedConnection) {
        guard self.links[id] != nil, connection.isOpen else { return }
        let target = "/ws/progress?jobId=\(self.jobId)"
        switch self.proxy.requestFate(connection, isUpgrade: true, method: "GET", target: target) {
        case .answer(let status, let message):
            self.failLink(
                id,
                .upgradeRejected(status: status, body: RequestRule.answerBody(status: status, message: message))
            )
        case .reset:
            self.failLink(id, .connectionReset)
        case .hang(let fault):
            connection.silence(by: fault)
        case .forward(let stripped, let afterUpgrade, let without):
            let token = without.contains("authorization") ? nil : self.token
            connection.send(.upstream, size: 250, .request(isUpgrade: true, target: target)) { [self] in
                switch self.server.admitStream(jobId: self.jobId, token: token, isUpgrade: !stripped) {
                case .success:
                    self.accept(link: id, over: connection, afterUpgrade: afterUpgrade)
                case .failure(let refusal):
                    let body = ProtocolJSON.encode(refusal.body)
                    connection.send(.downstream, size: 150 + body.count, .response) { [self] in
                        self.failLink(id, .upgradeRejected(status: refusal.statusCode, body: body))
                    }
                }
            }

        }
    }

    /// The server accepted the upgrade: its stream starts, and the 101 travels back.
    private func accept(link id: Int, over connection: SimulatedConnection, afterUpgrade: SimulatedProxy.AfterUpgrade?)
    {
        let stream = SimulatedStream(
            connection: connection,
            server: self.server,
            jobId: self.jobId,
            log: self.log,
            scheduler: self.scheduler
        ) { [unowned self] frame in self.receive(frame, link: id, over: connection) }
        connection.webSocketClose = { [unowned self] code in
            // The proxy ends the WebSocket: a close frame to each end, then the connection closes.
            self.receive(.close(code: code, reason: ""), link: id, over: connection)
            stream.receive(.peerClose(code: code))
            connection.close()
        }
        if self.links[id] != nil { self.links[id]?.stream = stream }
        connection.send(.downstream, size: 130, .response) { [self] in
            guard self.links[id] != nil else {
                // The client gave up (timed out) before the 101 arrived.
                connection.close()
                return
            }
            self.links[id]?.isOpen = true
            switch afterUpgrade {
            case .blackhole(let fault): connection.silence(by: fault)
            case .buffer(let interval): connection.bursts = (self.scheduler.now, interval)
            case nil: break
            }
            self.input(.linkOpened(id: id))
        }
    }

    /// A frame from the server reached the client.
    private func receive(_ frame: ProgressStreamStateMachine.Frame, link id: Int, over connection: SimulatedConnection)
    {
        switch frame {
        case .readyAck:
            self.input(.link(id: id, .heartbeat))
        case .message(let message):
            self.input(.link(id: id, .received(message)))
        case .ping:
            self.input(.ping(id: id, payload: Array("squall".utf8)))
        case .pong:
            self.input(.link(id: id, .heartbeat))
        case .close(let code, let reason):
            // The client answers the close and closes its socket, as the reference client's reader does.
            if let link = self.links.removeValue(forKey: id), let stream = link.stream {
                connection.send(.upstream, size: 8, .frame(.close)) { stream.receive(.peerClose(code: code)) }
                self.input(
                    .link(id: id, .linkClosed(code: code, reason: reason.isEmpty ? "server closed" : reason))
                )
            }
        }
    }

    // MARK: Event stream

    private func requestEventStream(link id: Int, over connection: SimulatedConnection, resumeAfter: Int) {
        guard self.links[id] != nil, connection.isOpen else { return }
        let target = "/sse/progress?jobId=\(self.jobId)"
        switch self.proxy.requestFate(connection, isUpgrade: false, method: "GET", target: target) {
        case .answer(let status, let message):
            let body = RequestRule.answerBody(status: status, message: message)
            self.failLink(id, .answered(status: status, body: body))
        case .reset:
            self.failLink(id, .connectionReset)
        case .hang(let fault):
            connection.silence(by: fault)
        case .forward(_, _, let without):
            let sent = resumeAfter > 0 ? String(resumeAfter) : nil
            let size = 250 + (sent.map { 17 + $0.utf8.count } ?? 0)
            // What reaches the server, after `strip_header`.
            let lastEventId = without.contains("last-event-id") ? nil : sent
            let token = without.contains("authorization") ? nil : self.token
            connection.send(.upstream, size: size, .request(isUpgrade: false, target: target)) { [self] in
                switch self.server.admitStream(jobId: self.jobId, token: token, isUpgrade: true) {
                case .success:
                    let stream = SimulatedEventStream(
                        connection: connection,
                        server: self.server,
                        jobId: self.jobId,
                        lastEventId: lastEventId,
                        log: self.log,
                        scheduler: self.scheduler
                    ) { [unowned self] delivery in self.receive(delivery, link: id) }
                    if self.links[id] != nil { self.links[id]?.eventStream = stream }
                case .failure(let refusal):
                    let body = ProtocolJSON.encode(refusal.body)
                    connection.send(.downstream, size: 150 + body.count, .response) { [self] in
                        self.failLink(id, .answered(status: refusal.statusCode, body: body))
                    }
                }
            }
        }
    }

    /// Part of an event stream's answer reached the client.
    private func receive(_ delivery: SimulatedEventStream.Delivery, link id: Int) {
        // The client may have given up on the link (timed out, or closed it) before this arrived.
        guard self.links[id] != nil else { return }
        switch delivery {
        case .head:
            self.links[id]?.isOpen = true
            self.input(.linkOpened(id: id))
        case .block(.message(let message)):
            self.input(.link(id: id, .received(message)))
        case .block(.retry), .block(.keepAlive):
            self.input(.link(id: id, .heartbeat))
        case .end:
            self.links[id] = nil
            self.input(.link(id: id, .linkClosed(code: nil, reason: FailureReason.serverClosed.description)))
        }
    }

    // MARK: Job-state requests

    private func send(_ fetch: HybridClientDriver.Fetch, since: Int) {
        var settled = false
        let (connection, establishment) = self.proxy.connect(client: self.id)
        let settle: (JobStateRequest.Outcome) -> Void = { [unowned self] outcome in
            guard !settled else { return }
            settled = true
            connection.close()
            self.input(.fetched(fetch, outcome))
        }
        let timeout = self.strategy.scaled(self.strategy.requestTimeout).simulationMilliseconds
        let fail: (FailureReason) -> Void = { settle(.failed(status: nil, reason: $0.description)) }
        self.scheduler.after(timeout) { fail(.requestTimedOut) }
        connection.clientLost = { ending in fail(ending == .reset ? .connectionReset : .closedBeforeAnswer) }
        let target = "/api/job-state/\(self.jobId)?since=\(since)"
        switch establishment {
        case .refused:
            self.scheduler.after(0) { fail(.connectionRefused) }
            return
        case .reset:
            self.scheduler.after(0) { fail(.connectionReset) }
            return
        case .hang:
            return
        case .open(let delay):
            self.scheduler.after(delay) { [self] in
                guard connection.isOpen else { return }
                switch self.proxy.requestFate(connection, isUpgrade: false, method: "GET", target: target) {
                case .answer(let status, let message):
                    let body = RequestRule.answerBody(status: status, message: message)
                    settle(
                        .failed(status: status, reason: FailureReason.answered(status: status, body: body).description)
                    )
                case .reset:
                    fail(.connectionReset)
                case .hang(let fault):
                    connection.silence(by: fault)
                case .forward(_, _, let without):
                    let token = without.contains("authorization") ? nil : self.token
                    connection.send(.upstream, size: 200, .request(isUpgrade: false, target: target)) { [self] in
                        switch self.server.jobState(jobId: self.jobId, token: token, since: since) {
                        case .success(let state):
                            connection.send(.downstream, size: 150 + 200 * state.messages.count, .response) {
                                settle(.answered(state))
                            }
                        case .failure(let refusal):
                            let body = ProtocolJSON.encode(refusal.body)
                            connection.send(.downstream, size: 150 + body.count, .response) {
                                let status = refusal.statusCode
                                let reason = FailureReason.answered(status: status, body: body)
                                settle(.failed(status: status, reason: reason.description))
                            }
                        }
                    }

                }
            }
        }
    }
}
