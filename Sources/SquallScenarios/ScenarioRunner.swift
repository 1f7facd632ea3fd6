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
    /// With a shard, only its clients run (with their own server and proxies; the whole timeline plays).
    public var shard: Shard?
    /// When set, the run starts at this wall-clock time (ms since the epoch), shared by every shard.
    public var startAt: Double?
    /// This runner's clock minus the shared reference clock, in ms, as estimated by whoever started it; written in
    /// the header so `squall merge` can align the shards' logs.
    public var clockOffset: Double = 0

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

    /// The header fields of a shard's log: which shard, of how many, the shared start and the clock offset.
    private var shardFields: [(String, JSONValue)] {
        guard let shard = self.shard else { return [] }
        return [
            ("shard", .number(Double(shard.index))), ("shards", .number(Double(shard.count))),
            ("startAt", self.startAt.map { .number($0) } ?? .null), ("clockOffsetMs", .number(self.clockOffset)),
        ]
    }

    /// Runs the scenario.
    ///
    /// - Returns: the record (interrupted when the task was cancelled).
    /// - Throws: ``ScenarioError/invalid(file:_:)`` when a fault leaves its range once scaled by `timeScale`,
    ///   ``ScenarioError/startFailed(part:reason:)`` when the server or a proxy cannot start,
    ///   ``ScenarioError/beyondHarness(reason:)`` when this process cannot hold the run's sockets.
    public func run() async throws(ScenarioError) -> RunRecord {
        let scenario = self.scenario
        let scenarioClock = ScenarioClock(scenario)
        try Self.checkCapacity(for: scenario, shard: self.shard)
        var plan: PlannedTimeline
        do {
            plan = try PlannedTimeline(scenario)
        } catch {
            throw ScenarioError.invalid(file: scenario.name, error)
        }
        // The digest names the whole plan, so every shard of one scenario carries the same.
        let planDigest = plan.digest
        if let shard = self.shard {
            plan.clients = plan.clients.enumerated().filter { shard.includes(clientAt: $0.offset) }.map(\.element)
        }
        let log =
            try self.eventLogPath.map { path throws(ScenarioError) in try EventLog(writingTo: path) } ?? EventLog()
        defer { log.close() }
        let board = ClientBoard(plan.clients.map(\.id))
        log.record(
            .scenario(
                RunHeader(
                    [
                        ("name", .string(scenario.name)),
                        ("seed", .number(Double(scenario.seed))),
                        ("timeScale", .number(scenarioClock.timeScale)),
                        ("version", .string(SquallVersion.current)),
                        ("scenarioDigest", .string(Digest.fnv1a64(scenario.source.jsonText))),
                        ("planDigest", .string(planDigest)),
                        ("scenario", scenario.source),
                        ("cores", .number(Double(System.coreCount))),
                        ("build", .string(Self.build)),
                    ] + self.shardFields
                )
            )
        )

        let server = try await ServerUnderTest.start(scenario.server, clock: scenarioClock, log: log)
        // Reference clients report the local port of each connection before connecting, so every proxy knows
        // which client a connection belongs to: faults target clients and draws are keyed by client.
        let origins = ConnectionOriginRegistry()
        var startedProxies: [String: ProxyServer] = [:]
        for group in scenario.clients {
            let proxy = ProxyServer(
                configuration: ProxyConfiguration(
                    name: group.name,
                    upstream: server.upstream,
                    profile: scenarioClock.played(scenario.network)
                ),
                seed: scenario.seed,
                origins: origins
            )
            do {
                try await proxy.start()
            } catch {
                for started in startedProxies.values { await started.stop() }
                _ = await server.close()
                throw .startFailed(part: "the proxy for group \(group.name)", reason: "\(error)")
            }
            startedProxies[group.name] = proxy
        }
        let proxies = startedProxies

        if let startAt = self.startAt {
            // The shared start: every shard's timeline runs at the same offsets from it.
            let wait = startAt - EventLog.now()
            if wait > 0 { try? await Task.sleep(for: .milliseconds(Int64(wait))) }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let scheduler = ClientScheduler(
            scenario: scenario,
            plan: plan,
            server: server,
            proxies: proxies,
            origins: origins,
            log: log,
            board: board
        )
        let timeline = TimelinePlayer(
            plan: plan,
            clock: scenarioClock,
            proxies: proxies,
            server: server,
            log: log,
            suspend: { ids, lasting in scheduler.suspend(ids, for: lasting) }
        )
        let monitor = HarnessMonitor(log: log, stall: self.harnessStall)
        let progress = self.progress
        let reason = await withTaskGroup(of: Void.self) { group -> String in
            group.addTask { await server.run(log: log) }
            group.addTask { await monitor.run() }
            group.addTask { await scheduler.run(from: start) }
            group.addTask { await timeline.run(from: start) }
            if let progress {
                group.addTask {
                    while (try? await Task.sleep(for: .seconds(1))) != nil {
                        let elapsed = scenarioClock.scenario(clock.now - start)
                        progress(
                            board.snapshot(
                                elapsed: elapsed,
                                total: scenario.duration,
                                faults: timeline.activeFaultNames
                            )
                        )
                    }
                }
            }
            let reason = await Self.end(at: start + scenarioClock.played(scenario.duration), board: board)
            // Heal every fault, then stop the clients (they report `stopped`), then the proxies and the server.
            await timeline.heal()
            scheduler.finishControls()
            group.cancelAll()
            // Clients are stopping: read back what an external server published, then close everything.
            await server.recordPublications(of: scheduler.jobs.withLock { $0 }, log: log)
            for proxy in proxies.values { await proxy.stop() }
            let serverFiles = await server.close()
            scheduler.attachments.withLock { $0.merge(serverFiles) { first, _ in first } }
            return reason
        }
        log.record(.runEnded(reason: reason, interrupted: reason == "interrupted"))
        log.close()
        var record: RunRecord
        if let path = log.path {
            if let failure = log.writeFailure {
                throw .eventLogIncomplete(path: path, reason: failure)
            }
            record = try RunRecord(contentsOf: path)
        } else {
            do {
                record = try RunRecord(lines: log.lines)
            } catch {
                throw .invalidRecord(path: "(in-memory log)", reason: "\(error)")
            }
        }
        record.attachments = scheduler.attachments.withLock { $0 }
        return record
    }

    /// Refuses, before anything starts, a scenario whose sockets do not fit in this process's file descriptors (the
    /// soft limit is raised to the hard one first). ``run()`` checks it too.
    ///
    /// - Throws: ``ScenarioError/beyondHarness(reason:)`` naming what is needed and what is allowed.
    package static func checkCapacity(for scenario: Scenario, shard: Shard? = nil) throws(ScenarioError) {
        try DescriptorBudget.check(scenario, shard: shard)
    }

    /// How this Squall was compiled, for the reports' advice.
    static var build: String {
        #if DEBUG
        "debug"
        #else
        "release"
        #endif
    }

    /// Waits for the end of the run: the deadline, every client done (the board says so), or cancellation.
    ///
    /// - Returns: why it ended: `duration reached`, `all clients finished` or `interrupted`.
    private static func end(at deadline: ContinuousClock.Instant, board: ClientBoard) async -> String {
        await withTaskGroup(of: String?.self) { group in
            group.addTask {
                (try? await ContinuousClock().sleep(until: deadline)) != nil ? "duration reached" : nil
            }
            group.addTask {
                await board.allDone()
                return Task.isCancelled ? nil : "all clients finished"
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? "interrupted"
        }
    }
}
