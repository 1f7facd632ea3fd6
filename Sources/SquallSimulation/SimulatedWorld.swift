import SquallFaults
import SquallProxy
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
    /// Faults in force, by name, with their groups.
    private var activeFaults: [(name: String, groups: [String])] = []

    init(scenario: Scenario, plan: PlannedTimeline, log eventLog: EventLog) {
        self.scenario = scenario
        self.plan = plan
        self.log = SimulationLog(log: eventLog, scheduler: self.scheduler)
        let configuration = ReferenceServerConfiguration(
            pingInterval: scenario.server.pingInterval,
            pongTimeout: scenario.server.pongTimeout,
            retention: .seconds(3_600)
        )
        self.server = SimulatedServer(configuration: configuration, scheduler: self.scheduler, log: self.log)
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
            self.scheduler.schedule(at: step.at.simulationMilliseconds) { [self] in self.perform(step) }
        }
        for planned in self.plan.clients {
            self.scheduler.schedule(at: planned.at.simulationMilliseconds) { [self] in self.start(planned) }
        }
        let total = self.plan.clients.count
        let allDone = self.scheduler.run(until: self.scenario.duration.simulationMilliseconds) { [self] in
            self.order.count == total && self.clients.values.allSatisfy(\.isDone)
        }
        // Heal every fault still in force, then stop the clients (they report `stopped`).
        for fault in self.activeFaults.sorted(by: { $0.name < $1.name }) {
            self.lift(fault.name, groups: fault.groups, healing: true)
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
            .clientStarted,
            [
                ("client", .string(planned.id)), ("group", .string(planned.group)),
                ("strategy", .string(group.strategyName)), ("jobId", .string(jobId)),
            ]
        )
        var strategy = group.strategy
        strategy.timeScale = 1
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

    /// Performs one step of the plan, logged as `squall run` logs it.
    private func perform(_ step: PlannedTimeline.Step) {
        let groups = step.groups ?? self.proxies.keys.sorted()
        let targets = groups.compactMap { self.proxies[$0] }
        var connectionsCut = 0
        switch step.kind {
        case .applyFault(let fault):
            for proxy in targets { proxy.add(fault) }
            self.activeFaults.removeAll { $0.name == fault.name }
            self.activeFaults.append((fault.name, groups))
        case .liftFault(let fault):
            self.lift(fault, groups: groups, healing: false)
        case .handoff(let handoff):
            for proxy in targets { connectionsCut += proxy.handoff(handoff) }
        case .profile(let profile):
            for proxy in targets { proxy.setProfile(profile) }
        case .suspend(let ids, let lasting):
            for id in ids { self.clients[id]?.suspend(for: lasting.simulationMilliseconds) }
        case .serverRestart(let downtime):
            self.server.restartStreams(downtime: downtime)
        }
        if let (name, fields) = step.event(groups: groups, connectionsCut: connectionsCut) {
            self.log.run(name, fields)
        }
    }

    private func lift(_ name: String, groups: [String], healing: Bool) {
        guard self.activeFaults.contains(where: { $0.name == name }) else { return }
        self.activeFaults.removeAll { $0.name == name }
        var hits = 0
        for group in groups { hits += self.proxies[group]?.remove(named: name) ?? 0 }
        let (event, fields) = PlannedTimeline.liftEvent(name: name, connectionsHit: hits, healing: healing)
        self.log.run(event, fields)
    }
}
