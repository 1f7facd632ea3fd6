import NIOCore
import SquallFaults
import SquallProxy
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer

/// Runs a scenario in-process: the reference server, one fault proxy per client group in front of it, the client
/// groups through their proxy, and the planned timeline against the clock (scaled by `timeScale`). Everything goes
/// into one ``EventLog``; the result is a ``RunRecord``.
///
/// The run ends at the scenario's duration, or earlier once every client has finished; faults are healed and
/// clients stopped first. Cancelling the task interrupts the run: it heals, stops and returns a record marked
/// interrupted, so a partial report is still written.
///
/// A ``HarnessMonitor`` samples the harness's own lag throughout, so the record can tell a failure of the system
/// under test from an overloaded harness (``RunVerdict/inconclusive``).
public struct ScenarioRunner: Sendable {
    /// The scenario.
    public let scenario: Scenario
    /// Where the event log is streamed as the run goes (nil: kept in memory).
    public let eventLogPath: String?
    /// Called about once a second with a snapshot, for the live progress line.
    public let progress: (@Sendable (RunProgress) -> Void)?
    /// Test hook: block every event loop this long once a second, to starve the harness on purpose.
    package var harnessStall: Duration?

    /// Creates a runner.
    ///
    /// - Parameters:
    ///   - scenario: what to run.
    ///   - eventLogPath: the `events.ndjson` to stream the log to as the run goes (nil: in memory only).
    ///   - progress: called about once a second with a snapshot.
    public init(scenario: Scenario, eventLogPath: String? = nil, progress: (@Sendable (RunProgress) -> Void)? = nil) {
        self.scenario = scenario
        self.eventLogPath = eventLogPath
        self.progress = progress
    }

    /// Runs the scenario.
    ///
    /// - Returns: the record (interrupted when the task was cancelled).
    /// - Throws: ``ScenarioError/startFailed(part:reason:)`` when the server or a proxy cannot start,
    ///   ``ScenarioError/beyondHarness(reason:)`` when this process cannot hold the run's sockets.
    public func run() async throws(ScenarioError) -> RunRecord {
        let scenario = self.scenario
        let scale = scenario.timeScale
        try DescriptorBudget.check(scenario)
        let plan = PlannedTimeline(scenario)
        let log =
            try self.eventLogPath.map { path throws(ScenarioError) in try EventLog(writingTo: path) } ?? EventLog()
        defer { log.close() }
        let board = ClientBoard(plan.clients.map(\.id))
        log.recordRun(
            .scenario,
            [
                ("name", .string(scenario.name)),
                ("seed", .number(Double(scenario.seed))),
                ("timeScale", .number(scale)),
                ("version", .string(SquallVersion.current)),
                ("scenarioDigest", .string(Digest.fnv1a64(scenario.source.jsonText))),
                ("planDigest", .string(plan.digest)),
                ("scenario", scenario.source),
                ("cores", .number(Double(System.coreCount))),
                ("build", .string(Self.build)),
            ]
        )

        let server = try await ServerUnderTest.start(scenario.server, scale: scale, log: log)
        var proxies: [String: ProxyServer] = [:]
        for group in scenario.clients {
            let proxy = ProxyServer(
                configuration: ProxyConfiguration(
                    name: group.name,
                    upstream: server.upstream,
                    profile: scenario.network.map { $0.scaled(by: scale) }
                ),
                seed: scenario.seed
            )
            do {
                try await proxy.start()
            } catch {
                for started in proxies.values { await started.stop() }
                _ = await server.close()
                throw .startFailed(part: "the proxy for group \(group.name)", reason: "\(error)")
            }
            proxies[group.name] = proxy
        }

        let proxiesByGroup = proxies
        let clock = ContinuousClock()
        let start = clock.now
        let ending = Locked<String?>(nil)
        let activeFaults = Locked<[String: [String]]>([:])
        let jobs = Locked<[JobCreation.Created]>([])
        let attachments = Locked<[String: String]>([:])
        let monitor = HarnessMonitor(log: log, stall: self.harnessStall)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await server.run(log: log) }
            group.addTask { await monitor.run() }
            let controls = Locked<[String: AsyncStream<HybridClient.Control>.Continuation]>([:])
            // Clients: each starts at its planned time with its own job, through its group's proxy.
            group.addTask {
                await withTaskGroup(of: Void.self) { clients in
                    for planned in plan.clients {
                        guard (try? await clock.sleep(until: start + planned.at * scale)) != nil else { break }
                        let spec = scenario.clients.first { $0.name == planned.group }!
                        var creation = scenario.server.job
                        creation.itemInterval = creation.itemInterval * scale
                        let job: JobCreation.Created
                        do {
                            job = try await server.createJob(creation)
                        } catch {
                            log.recordRun(
                                .clientStarted,
                                [
                                    ("client", .string(planned.id)), ("group", .string(planned.group)),
                                    ("strategy", .string(spec.strategyName)), ("jobId", .string("")),
                                ]
                            )
                            log.recordRun(
                                .clientFailedToStart,
                                [("client", .string(planned.id)), ("reason", .string("\(error)"))]
                            )
                            board.finished(planned.id)
                            continue
                        }
                        jobs.withLock { $0.append(job) }
                        let proxy = proxiesByGroup[planned.group]!
                        let address = ServerAddress(
                            host: "127.0.0.1",
                            port: proxy.listenAddress?.port ?? 0,
                            pathPrefix: server.pathPrefix
                        )
                        log.recordRun(
                            .clientStarted,
                            [
                                ("client", .string(planned.id)), ("group", .string(planned.group)),
                                ("strategy", .string(spec.strategyName)), ("jobId", .string(job.jobId)),
                            ]
                        )
                        board.started(planned.id)
                        if let command = spec.command {
                            let client = ExternalClient(
                                id: planned.id,
                                group: planned.group,
                                command: command,
                                serverURL: address.description,
                                jobId: job.jobId,
                                token: job.token,
                                seed: planned.seed,
                                timeScale: scale
                            )
                            clients.addTask {
                                let errors = await client.run(log: log, board: board)
                                if !errors.isEmpty {
                                    attachments.withLock { $0["clients/\(planned.id).stderr.log"] = errors }
                                }
                            }
                            continue
                        }
                        var strategy = spec.strategy
                        strategy.timeScale = scale
                        let client = HybridClient(
                            configuration: HybridClient.Configuration(
                                server: address,
                                jobId: job.jobId,
                                token: job.token,
                                clientId: planned.id,
                                strategy: strategy,
                                seed: planned.seed
                            )
                        )
                        let (control, controlContinuation) = AsyncStream<HybridClient.Control>.makeStream()
                        controls.withLock { $0[planned.id] = controlContinuation }
                        clients.addTask {
                            _ = await client.run(control: control) { event in
                                log.record(time: event.time, line: event.jsonLine)
                                board.update(event)
                            }
                        }
                    }
                    await clients.waitForAll()
                }
            }
            // The timeline.
            group.addTask {
                for step in plan.steps {
                    guard (try? await clock.sleep(until: start + step.at * scale)) != nil else { return }
                    await Self.perform(
                        step,
                        scale: scale,
                        proxies: proxiesByGroup,
                        server: server,
                        log: log,
                        activeFaults: activeFaults
                    ) { ids, lasting in
                        let continuations = controls.withLock { all in ids.compactMap { all[$0] } }
                        for continuation in continuations { continuation.yield(.suspend(lasting)) }
                    }
                }
            }
            // Progress.
            if let progress = self.progress {
                group.addTask {
                    while (try? await Task.sleep(for: .seconds(1))) != nil {
                        progress(
                            board.snapshot(
                                elapsed: (clock.now - start) / scale,
                                total: scenario.duration,
                                faults: activeFaults.withLock { $0.keys.sorted() }
                            )
                        )
                    }
                }
            }
            // The end: the duration, every client done, or cancellation.
            let deadline = start + scenario.duration * scale
            while clock.now < deadline {
                if Task.isCancelled {
                    ending.withLock { $0 = "interrupted" }
                    break
                }
                if board.allDone {
                    ending.withLock { $0 = "all clients finished" }
                    break
                }
                try? await Task.sleep(for: min(.milliseconds(50), deadline - clock.now))
            }
            if ending.withLock({ $0 }) == nil { ending.withLock { $0 = "duration reached" } }
            // Heal every fault, then stop the clients (they report `stopped`), then the proxies and the server.
            for (name, groups) in activeFaults.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
                await Self.lift(
                    name,
                    groups: groups,
                    proxies: proxiesByGroup,
                    log: log,
                    activeFaults: activeFaults,
                    healing: true
                )
            }
            for proxy in proxiesByGroup.values { try? await proxy.removeAllFaults() }
            for control in controls.withLock({ Array($0.values) }) { control.finish() }
            group.cancelAll()
            // Clients are stopping: read back what an external server published, then close everything.
            await server.recordPublications(of: jobs.withLock { $0 }, log: log)
            for proxy in proxiesByGroup.values { await proxy.stop() }
            let serverFiles = await server.close()
            attachments.withLock { $0.merge(serverFiles) { first, _ in first } }
        }
        let reason = ending.withLock { $0 } ?? "duration reached"
        log.recordRun(.runEnded, [("reason", .string(reason)), ("interrupted", .bool(reason == "interrupted"))])
        log.close()
        var record: RunRecord
        if let path = log.path {
            record = try RunRecord(contentsOf: path)
        } else {
            do {
                record = try RunRecord(lines: log.lines)
            } catch {
                throw .invalidRecord(path: "(in-memory log)", reason: "\(error)")
            }
        }
        record.attachments = attachments.withLock { $0 }
        return record
    }

    /// How this Squall was compiled, for the reports' advice.
    static var build: String {
        #if DEBUG
        "debug"
        #else
        "release"
        #endif
    }

    private static func perform(
        _ step: PlannedTimeline.Step,
        scale: Double,
        proxies: [String: ProxyServer],
        server: ServerUnderTest,
        log: EventLog,
        activeFaults: Locked<[String: [String]]>,
        suspend: ([String], Duration) -> Void
    ) async {
        let groups = step.groups ?? proxies.keys.sorted()
        let targets = groups.compactMap { proxies[$0] }
        let at = JSONValue.string(step.at.squallText)
        switch step.kind {
        case .applyFault(let fault):
            let scaled = fault.scaled(by: scale)
            for proxy in targets { try? await proxy.addFault(scaled) }
            activeFaults.withLock { $0[fault.name] = groups }
            log.recordRun(
                .faultApplied,
                [
                    ("at", at), ("name", .string(fault.name)), ("type", .string(fault.type.rawValue)),
                    ("direction", .string(fault.direction.rawValue)), ("toxicity", .number(fault.toxicity)),
                    ("groups", .array(groups.map { .string($0) })), ("fault", fault.json),
                ]
            )
        case .liftFault(let name):
            await Self.lift(
                name,
                groups: groups,
                proxies: proxies,
                log: log,
                activeFaults: activeFaults,
                healing: false
            )
        case .handoff(var handoff):
            handoff.blackout = handoff.blackout * scale
            handoff.profile = handoff.profile?.scaled(by: scale)
            var cut = 0
            for proxy in targets { cut += await proxy.handoff(handoff).connectionsCut }
            log.recordRun(
                .handoff,
                [
                    ("at", at), ("mode", .string(handoff.mode.rawValue)), ("blackout", .string(step.blackoutText)),
                    ("to", handoff.profile.map { .string($0.name) } ?? .null),
                    ("groups", .array(groups.map { .string($0) })),
                    ("connectionsCut", .number(Double(cut))),
                ]
            )
        case .profile(let profile):
            for proxy in targets { try? await proxy.setProfile(profile?.scaled(by: scale)) }
            log.recordRun(
                .profile,
                [
                    ("at", at), ("profile", profile.map { .string($0.name) } ?? .null),
                    ("groups", .array(groups.map { .string($0) })),
                ]
            )
        case .suspend(let clients, let lasting):
            suspend(clients, lasting * scale)
            log.recordRun(
                .clientsSuspended,
                [
                    ("at", at), ("clients", .array(clients.map { .string($0) })), ("for", .string(lasting.squallText)),
                ]
            )
        case .serverRestart(let downtime):
            server.restartStreams(downtime: downtime * scale)
            log.recordRun(.serverRestart, [("at", at), ("downtime", .string(downtime.squallText))])
        }
    }

    private static func lift(
        _ name: String,
        groups: [String],
        proxies: [String: ProxyServer],
        log: EventLog,
        activeFaults: Locked<[String: [String]]>,
        healing: Bool
    ) async {
        var hits = 0
        for group in groups {
            guard let proxy = proxies[group] else { continue }
            try? await proxy.removeFault(named: name)
            hits += proxy.metrics.faultsApplied(named: name)
        }
        activeFaults.withLock { _ = $0.removeValue(forKey: name) }
        log.recordRun(
            .faultLifted,
            [("name", .string(name)), ("connectionsHit", .number(Double(hits))), ("healing", .bool(healing))]
        )
    }
}

extension PlannedTimeline.Step {
    fileprivate var blackoutText: String {
        if case .handoff(let handoff) = self.kind { return handoff.blackout.squallText }
        return "0"
    }
}
