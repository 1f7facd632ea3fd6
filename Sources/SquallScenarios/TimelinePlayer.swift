import SquallFaults
import SquallProxy

/// Carries a run's timeline out on sockets: a ``TimelineConductor`` says when each step is due and what to do (at
/// the run's ``ScenarioClock``); this does it on the groups' proxies, the server and the clients, and logs the
/// event the conductor words. At the end of the run it heals whatever is still in force.
struct TimelinePlayer: Sendable {
    let plan: PlannedTimeline
    let proxies: [String: ProxyServer]
    let server: ServerUnderTest
    let log: EventLog
    /// Freezes the given clients for a played duration.
    let suspend: @Sendable ([String], Duration) -> Void
    /// The conductor: the faults in force, and what each step means.
    private let conductor: Locked<TimelineConductor>

    /// A player of `plan` at `clock`.
    init(
        plan: PlannedTimeline,
        clock: ScenarioClock,
        proxies: [String: ProxyServer],
        server: ServerUnderTest,
        log: EventLog,
        suspend: @escaping @Sendable ([String], Duration) -> Void
    ) {
        self.plan = plan
        self.proxies = proxies
        self.server = server
        self.log = log
        self.suspend = suspend
        self.conductor = Locked(TimelineConductor(clock: clock, groups: Array(proxies.keys)))
    }

    /// Plays every step when due from `start`; returns early when cancelled.
    func run(from start: ContinuousClock.Instant) async {
        for step in self.plan.steps {
            let due = self.conductor.withLock { $0.due(step) }
            guard (try? await ContinuousClock().sleep(until: start + due)) != nil else { return }
            await self.perform(step)
        }
    }

    /// The names of the faults in force, for the progress line.
    var activeFaultNames: [String] {
        self.conductor.withLock { $0.faultsInForce }
    }

    /// Removes every fault still in force (logged with `healing: true`), then clears every proxy.
    func heal() async {
        for operation in self.conductor.withLock({ $0.healing() }) {
            guard case .removeFault(let name, _) = operation else { continue }
            let outcome = await self.carry(operation)
            let hits: Int = if case .removed(let hits) = outcome { hits } else { 0 }
            if let event = self.conductor.withLock({ $0.healed(name, connectionsHit: hits) }) { self.log.record(event) }
        }
        for proxy in self.proxies.values { try? await proxy.removeAllFaults() }
    }

    /// Performs one step: the conductor's operation, carried out, then its event logged.
    private func perform(_ step: PlannedTimeline.Step) async {
        let outcome: TimelineConductor.Outcome
        do {
            outcome = await self.carry(try self.conductor.withLock { $0 }.operation(for: step))
        } catch {
            outcome = .failed(["\(error)"])
        }
        if let event = self.conductor.withLock({ $0.performed(step, outcome) }) { self.log.record(event) }
    }

    /// Does one operation on the proxies, the server or the clients.
    private func carry(_ operation: TimelineConductor.Operation) async -> TimelineConductor.Outcome {
        switch operation {
        case .addFault(let fault, let groups):
            return .failed(await self.onEachProxy(of: groups) { try await $0.addFault(fault) })
        case .removeFault(let name, let groups):
            var hits = 0
            for proxy in groups.compactMap({ self.proxies[$0] }) {
                try? await proxy.removeFault(named: name)
                hits += proxy.metrics.faultsApplied(named: name)
            }
            return .removed(connectionsHit: hits)
        case .handoff(let handoff, let groups):
            var cut = 0
            for proxy in groups.compactMap({ self.proxies[$0] }) { cut += await proxy.handoff(handoff).connectionsCut }
            return .handedOff(connectionsCut: cut)
        case .setProfile(let profile, let groups):
            return .failed(await self.onEachProxy(of: groups) { try await $0.setProfile(profile) })
        case .suspend(let clients, let lasting):
            self.suspend(clients, lasting)
            return .done
        case .restartServer(let downtime):
            self.server.restartStreams(downtime: downtime)
            return .done
        }
    }

    /// Does `change` on each group's proxy; returns each group where it failed and why.
    private func onEachProxy(of groups: [String], _ change: (ProxyServer) async throws -> Void) async -> [String] {
        var failures: [String] = []
        for group in groups {
            guard let proxy = self.proxies[group] else { continue }
            do {
                try await change(proxy)
            } catch {
                failures.append("\(group): \(error)")
            }
        }
        return failures
    }
}
