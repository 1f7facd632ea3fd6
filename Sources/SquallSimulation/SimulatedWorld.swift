import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer
import SquallScenarios

/// Everything one simulation holds: the clock, the server, a proxy per group, the clients and the timeline, wired
/// together and played to the end.
final class SimulatedWorld {
    let scheduler = SimulationScheduler()
    let log: SimulationLog
    private let scenario: Scenario
    private let plan: PlannedTimeline
    private let server: SimulatedServer
    private var proxies: [String: SimulatedProxy] = [:]
    private var clients: [String: SimulatedClient] = [:]
    private var order: [String] = []
    /// What each step means and the faults in force, at scale 1: virtual time is scenario time.
    private var conductor: TimelineConductor

    init(scenario: Scenario, plan: PlannedTimeline, log eventLog: EventLog) {
        self.scenario = scenario
        self.plan = plan
        self.log = SimulationLog(log: eventLog, scheduler: self.scheduler)
        let configuration = scenario.server.referenceConfiguration
        self.server = SimulatedServer(configuration: configuration, scheduler: self.scheduler, log: self.log)
        self.conductor = TimelineConductor(clock: .unscaled, groups: scenario.clients.map(\.name))
        let seeds = SeedTree(seed: scenario.seed)
        for group in scenario.clients {
            self.proxies[group.name] = SimulatedProxy(
                name: group.name,
                scheduler: self.scheduler,
                seeds: seeds,
                profile: scenario.network
            )
        }
    }

    /// Plays the run to its duration, or until every client is done; returns why it ended.
    func run() -> String {
        // Steps first: at the same instant a step acts before a client starts, as on real sockets, where a client
        // starts only after its job has been created over HTTP.
        for step in self.plan.steps {
            self.scheduler.schedule(at: self.conductor.due(step).simulationMilliseconds) { [self] in
                self.perform(step)
            }
        }
        for planned in self.plan.clients {
            self.scheduler.schedule(at: planned.at.simulationMilliseconds) { [self] in self.start(planned) }
        }
        let total = self.plan.clients.count
        let allDone = self.scheduler.run(until: self.scenario.duration.simulationMilliseconds) { [self] in
            self.order.count == total && self.clients.values.allSatisfy(\.isDone)
        }
        // Heal every fault still in force, then stop the clients (they report `stopped`).
        for operation in self.conductor.healing() {
            guard case .removeFault(let name, _) = operation, case .removed(let hits) = self.carry(operation) else {
                continue
            }
            if let event = self.conductor.healed(name, connectionsHit: hits) { self.log.run(event) }
        }
        for id in self.order { self.clients[id]?.stop() }
        return allDone ? "all clients finished" : "duration reached"
    }

    private func start(_ planned: PlannedTimeline.ClientStart) {
        guard let group = self.scenario.clients.first(where: { $0.name == planned.group }),
            let proxy = self.proxies[planned.group]
        else { return }
        var random = SeededRandom(seed: self.scenario.seed, labels: ["job", planned.id])
        let jobId = "job-" + String(random.next() & 0xFFFF_FFFF, radix: 16)
        let token = String(random.next(), radix: 16)
        self.server.createJob(id: jobId, token: token, creation: self.scenario.server.job)
        self.log.run(
            .clientStarted(client: planned.id, group: planned.group, strategy: group.strategyName, jobId: jobId)
        )
        var strategy = group.strategy
        strategy.timeScale = self.conductor.clock.timeScale
        let client = SimulatedClient(
            id: planned.id,
            jobId: jobId,
            token: token,
            strategy: strategy,
            seed: planned.seed,
            proxy: proxy,
            server: self.server,
            log: self.log,
            scheduler: self.scheduler
        )
        self.clients[planned.id] = client
        self.order.append(planned.id)
        client.start()
    }

    /// Performs one step of the plan: the conductor's operation, carried out, its event logged as `squall run`
    /// logs it.
    private func perform(_ step: PlannedTimeline.Step) {
        let outcome: TimelineConductor.Outcome
        do {
            outcome = self.carry(try self.conductor.operation(for: step))
        } catch {
            outcome = .failed(["\(error)"])
        }
        if let event = self.conductor.performed(step, outcome) { self.log.run(event) }
    }

    /// Does one operation on the simulated proxies, server or clients.
    private func carry(_ operation: TimelineConductor.Operation) -> TimelineConductor.Outcome {
        switch operation {
        case .addFault(let fault, let groups):
            for proxy in groups.compactMap({ self.proxies[$0] }) { proxy.add(fault) }
            return .done
        case .removeFault(let name, let groups):
            return .removed(connectionsHit: groups.reduce(0) { $0 + (self.proxies[$1]?.remove(named: name) ?? 0) })
        case .handoff(let handoff, let groups):
            return .handedOff(connectionsCut: groups.reduce(0) { $0 + (self.proxies[$1]?.handoff(handoff) ?? 0) })
        case .setProfile(let profile, let groups):
            for proxy in groups.compactMap({ self.proxies[$0] }) { proxy.setProfile(profile) }
            return .done
        case .suspend(let ids, let lasting):
            for id in ids { self.clients[id]?.suspend(for: lasting.simulationMilliseconds) }
            return .done
        case .restartServer(let downtime):
            self.server.restartStreams(downtime: downtime)
            return .done
        }
    }
}
