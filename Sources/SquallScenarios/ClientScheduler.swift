import NIOCore
import NIOPosix
import SquallFaults
import SquallProxy
import SquallReferenceClient
import SquallReferenceProtocol

/// Starts every planned client at its planned time — its own job, through its group's proxy — and runs it until it
/// finishes or the run ends; the reference client in-process, a team's client as a process of its own.
struct ClientScheduler: Sendable {
    let scenario: Scenario
    let plan: PlannedTimeline
    let server: ServerUnderTest
    let proxies: [String: ProxyServer]
    /// Where reference clients report the ports they connect from (see ``ConnectionOriginRegistry``).
    let origins: ConnectionOriginRegistry
    let log: EventLog
    let board: ClientBoard
    /// Every job created, for reading back what an external server published.
    let jobs = Locked<[JobCreation.Created]>([])
    /// Files to keep beside the report (external clients' standard error).
    let attachments = Locked<[String: String]>([:])
    /// How to reach each running reference client (suspension).
    private let controls = Locked<[String: AsyncStream<HybridClient.Control>.Continuation]>([:])

    /// Starts the clients on schedule from `start` and waits for all of them; cancelling stops them.
    ///
    /// Reference clients take the event loops in turn, in the order they start. Left to `next()` on the shared
    /// group, which the server's accepts also advance, they fell in step with the accepts: every client on one loop
    /// and that loop twice as busy as the other in a reconnect storm.
    func run(from start: ContinuousClock.Instant) async {
        let clock = ScenarioClock(self.scenario)
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        await withTaskGroup(of: Void.self) { clients in
            for (position, planned) in self.plan.clients.enumerated() {
                guard (try? await ContinuousClock().sleep(until: start + clock.played(planned.at))) != nil else {
                    break
                }
                let loop = loops[position % loops.count]
                guard let client = await self.prepare(planned, on: loop) else { continue }
                clients.addTask { await client() }
            }
            await clients.waitForAll()
        }
    }

    /// Freezes the given reference clients for `lasting` (real time).
    func suspend(_ ids: [String], for lasting: Duration) {
        let continuations = self.controls.withLock { all in ids.compactMap { all[$0] } }
        for continuation in continuations { continuation.yield(.suspend(lasting)) }
    }

    /// Tells every reference client that no more instructions come.
    func finishControls() {
        for control in self.controls.withLock({ Array($0.values) }) { control.finish() }
    }

    /// Creates the client's job and logs its start; returns the work that runs it, nil when it could not start.
    private func prepare(
        _ planned: PlannedTimeline.ClientStart,
        on loop: any EventLoop
    ) async -> (@Sendable () async -> Void)? {
        let clock = ScenarioClock(self.scenario)
        guard let spec = self.scenario.clients.first(where: { $0.name == planned.group }),
            let proxy = self.proxies[planned.group]
        else { return nil }
        let creation = clock.played(self.scenario.server.job)
        let job: JobCreation.Created
        do {
            job = try await self.server.createJob(creation)
        } catch {
            self.logStart(planned, strategy: spec.strategyName, jobId: "")
            self.log.record(.clientFailedToStart(client: planned.id, reason: "\(error)"))
            self.board.finished(planned.id)
            return nil
        }
        self.jobs.withLock { $0.append(job) }
        let address = ServerAddress(
            host: "127.0.0.1",
            port: proxy.listenAddress?.port ?? 0,
            pathPrefix: self.server.pathPrefix
        )
        self.logStart(planned, strategy: spec.strategyName, jobId: job.jobId)
        self.board.started(planned.id)
        let (log, board, attachments) = (self.log, self.board, self.attachments)
        if let command = spec.command {
            let client = ExternalClient(
                id: planned.id,
                group: planned.group,
                command: command,
                serverURL: address.description,
                jobId: job.jobId,
                token: job.token,
                seed: planned.seed,
                timeScale: clock.timeScale
            )
            return {
                let errors = await client.run(log: log, board: board)
                if !errors.isEmpty {
                    attachments.withLock { $0["clients/\(planned.id).stderr.log"] = errors }
                }
            }
        }
        var strategy = spec.strategy
        // The reference client scales its own timings (the driver's, shared with the simulator) by this.
        strategy.timeScale = clock.timeScale
        let client = HybridClient(
            configuration: HybridClient.Configuration(
                server: address,
                jobId: job.jobId,
                token: job.token,
                clientId: planned.id,
                strategy: strategy,
                seed: planned.seed,
                sourcePorts: SourcePortObserver(origins: origins, client: planned.id)
            ),
            eventLoopGroup: loop
        )
        let (control, continuation) = AsyncStream<HybridClient.Control>.makeStream()
        self.controls.withLock { $0[planned.id] = continuation }
        return {
            _ = await client.run(control: control) { event in
                log.record(time: event.time, line: event.jsonLine)
                board.update(event)
            }
        }
    }

    private func logStart(_ planned: PlannedTimeline.ClientStart, strategy: String, jobId: String) {
        self.log.record(.clientStarted(client: planned.id, group: planned.group, strategy: strategy, jobId: jobId))
    }
}
