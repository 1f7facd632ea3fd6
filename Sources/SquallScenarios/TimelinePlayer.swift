import SquallFaults
import SquallProxy

/// Plays a run's planned timeline against the clock: applies and lifts faults on the groups' proxies, hands off,
/// switches profiles, suspends clients, restarts the server — each logged as it happens — and heals whatever is
/// still active when the run ends.
struct TimelinePlayer: Sendable {
    let plan: PlannedTimeline
    let scale: Double
    let proxies: [String: ProxyServer]
    let server: ServerUnderTest
    let log: EventLog
    /// Freezes the given clients for a real-time duration.
    let suspend: @Sendable ([String], Duration) -> Void
    /// Faults in force now, by name, with the groups they were applied to.
    let activeFaults = Locked<[String: [String]]>([:])

    /// Plays every step at its time from `start`; returns early when cancelled.
    func run(from start: ContinuousClock.Instant) async {
        for step in self.plan.steps {
            guard (try? await ContinuousClock().sleep(until: start + step.at * self.scale)) != nil else { return }
            await self.perform(step)
        }
    }

    /// The names of the faults in force, for the progress line.
    var activeFaultNames: [String] {
        self.activeFaults.withLock { $0.keys.sorted() }
    }

    /// Lifts every fault still in force (logged with `healing: true`), then clears every proxy.
    func heal() async {
        for (name, groups) in self.activeFaults.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            await self.lift(name, groups: groups, healing: true)
        }
        for proxy in self.proxies.values { try? await proxy.removeAllFaults() }
    }

    /// Performs one step of the plan.
    private func perform(_ step: PlannedTimeline.Step) async {
        let (scale, proxies, server, log) = (self.scale, self.proxies, self.server, self.log)
        let groups = step.groups ?? proxies.keys.sorted()
        let targets = groups.compactMap { proxies[$0] }
        let at = JSONValue.string(step.at.squallText)
        var connectionsCut = 0
        switch step.kind {
        case .applyFault(let fault):
            let failures = await self.onEachProxy(of: groups) { try await $0.addFault(fault) }
            guard failures.isEmpty else {
                // Never logged as applied: the run fails on `faults_not_injected` and says why.
                log.recordRun(
                    .faultNotApplied,
                    [("at", at), ("name", .string(fault.name)), ("errors", .array(failures)), ("fault", fault.json)]
                )
                return
            }
            self.activeFaults.withLock { $0[fault.name] = groups }
        case .liftFault(let name):
            await self.lift(name, groups: groups, healing: false)
        case .handoff(var handoff):
            handoff.blackout = handoff.blackout * scale
            for proxy in targets { connectionsCut += await proxy.handoff(handoff).connectionsCut }
        case .profile(let profile):
            let failures = await self.onEachProxy(of: groups) { try await $0.setProfile(profile) }
            guard failures.isEmpty else {
                log.recordRun(
                    .faultNotApplied,
                    [
                        ("at", at), ("name", .string("profile \(profile?.name ?? "none")")),
                        ("errors", .array(failures)),
                    ]
                )
                return
            }
        case .suspend(let clients, let lasting):
            self.suspend(clients, lasting * scale)
        case .serverRestart(let downtime):
            server.restartStreams(downtime: downtime * scale)
        }
        if let (name, fields) = step.event(groups: groups, connectionsCut: connectionsCut) {
            log.recordRun(name, fields)
        }
    }

    /// Does `change` on each group's proxy; returns, for the log, each group where it failed and why.
    private func onEachProxy(
        of groups: [String],
        _ change: (ProxyServer) async throws -> Void
    ) async -> [JSONValue] {
        var failures: [JSONValue] = []
        for group in groups {
            guard let proxy = self.proxies[group] else { continue }
            do {
                try await change(proxy)
            } catch {
                failures.append(.string("\(group): \(error)"))
            }
        }
        return failures
    }

    private func lift(_ name: String, groups: [String], healing: Bool) async {
        var hits = 0
        for group in groups {
            guard let proxy = self.proxies[group] else { continue }
            try? await proxy.removeFault(named: name)
            hits += proxy.metrics.faultsApplied(named: name)
        }
        guard self.activeFaults.withLock({ $0.removeValue(forKey: name) }) != nil else { return }
        let (event, fields) = PlannedTimeline.liftEvent(name: name, connectionsHit: hits, healing: healing)
        self.log.recordRun(event, fields)
    }
}
