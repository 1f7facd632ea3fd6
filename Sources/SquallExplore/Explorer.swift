import SquallFaults
import SquallScenarios
import SquallSimulation

/// `squall explore`'s search: generated fault schedules run in virtual time against one client strategy, steered by
/// coverage (a schedule that takes some client through a change of state no schedule has yet — polling to
/// connecting, connecting to WebSocket and on — joins the corpus, and later schedules are often its variations),
/// every failure of the contract (``ExploreScenario``) shrunk to a capsule, one per failing gate.
package final class Explorer {
    /// A failure found: the gate, the schedule that failed it first, and its shrunk capsule.
    package struct Finding: Sendable {
        /// The gate's key and expression.
        package var gate: String
        /// The gate's metric.
        package var metric: Metric
        /// The first failing scenario.
        package var scenario: JSONValue
        /// The shrunk scenario and how the shrink went.
        package var minimal: ScenarioDraft
        /// The failure's result in the shrunk scenario's run.
        package var failure: GateResult
        /// The shrink's counts.
        package var statistics: ScenarioShrinker.Statistics
        /// Schedules that failed this gate.
        package var occurrences: Int
        /// When it was first found, seconds into the exploration.
        package var foundAfter: Double
        /// How long its shrink took, seconds.
        package var shrinkSeconds: Double
    }

    /// What the exploration saw.
    package struct Coverage: Sendable {
        /// Client state changes reached (`polling→connecting`).
        package var transitions: Set<String> = []
        /// Three states in a row reached (`websocket→connecting→polling`).
        package var paths: Set<String> = []
    }

    /// The strategy explored.
    package let strategy: String
    /// Clients per schedule.
    package let clients: Int
    /// Schedules run.
    package private(set) var schedules = 0
    /// Schedules that failed the contract.
    package private(set) var failingSchedules = 0
    /// What was reached.
    package private(set) var coverage = Coverage()
    /// The failures, by gate, in the order found.
    package private(set) var findings: [Finding] = []
    private var generator: ScheduleGenerator
    private var corpus: [[JSONValue]] = []
    private var choice: SeededRandom
    private let seed: UInt64

    /// An explorer of `strategy` with `clients` clients per schedule, drawing from `seed`.
    package init(strategy: String, clients: Int, seed: UInt64) {
        self.strategy = strategy
        self.clients = clients
        self.seed = seed
        self.generator = ScheduleGenerator(seed: seed)
        self.choice = SeededRandom(seed: seed, labels: ["explore", "choice"])
    }

    /// Runs schedules until `deadline` (or `limit` schedules); `found` is told of each new finding as it is shrunk.
    package func explore(
        until deadline: ContinuousClock.Instant,
        limit: Int = .max,
        shrinkBudget: Duration = .seconds(60),
        found: (Finding) -> Void = { _ in }
    ) {
        let started = ContinuousClock.now
        while ContinuousClock.now < deadline, self.schedules < limit {
            let steps =
                !self.corpus.isEmpty && Int.random(in: 0...1, using: &self.choice) == 0
                ? self.generator.mutate(self.corpus[Int.random(in: 0...(self.corpus.count - 1), using: &self.choice)])
                : self.generator.fresh()
            self.schedules += 1
            let json = ExploreScenario.json(
                name: "explore-\(self.strategy)-\(self.schedules)",
                steps: steps,
                strategy: self.strategy,
                clients: self.clients,
                seed: self.seed &+ UInt64(self.schedules)
            )
            guard let scenario = try? Scenario(json: json), let record = try? SimulationRunner(scenario: scenario).run()
            else { continue }
            if self.cover(record) { self.corpus.append(steps) }
            let failed = record.gates.filter {
                $0.verdict == .failed && $0.missingEvidence == nil
                    && ExploreScenario.contractMetrics.contains($0.gate.metric.rawValue)
            }
            guard !failed.isEmpty else { continue }
            self.failingSchedules += 1
            for result in failed {
                // One finding per metric: thresholds and step names vary from schedule to schedule.
                let key = "\(result.gate.key) \(result.gate.expression)"
                if let index = self.findings.firstIndex(where: { $0.metric == result.gate.metric }) {
                    self.findings[index].occurrences += 1
                    continue
                }
                guard let finding = self.shrink(json, record: record, gate: key, budget: shrinkBudget, started: started)
                else { continue }
                self.findings.append(finding)
                found(finding)
            }
        }
    }

    /// Adds the record's client state changes to the coverage; whether any was new.
    private func cover(_ record: RunRecord) -> Bool {
        var new = false
        for intervals in record.clientStates.intervals.values {
            let states = intervals.map { "\($0.state)" }
            for index in states.indices.dropFirst() {
                new = self.coverage.transitions.insert("\(states[index - 1])→\(states[index])").inserted || new
                if index >= 2 {
                    let path = "\(states[index - 2])→\(states[index - 1])→\(states[index])"
                    new = self.coverage.paths.insert(path).inserted || new
                }
            }
        }
        return new
    }

    private func shrink(
        _ json: JSONValue,
        record: RunRecord,
        gate: String,
        budget: Duration,
        started: ContinuousClock.Instant
    ) -> Finding? {
        guard let target = ShrinkTarget.failing(in: record, named: gate), let draft = ScenarioDraft(json) else {
            return nil
        }
        let shrinkStarted = ContinuousClock.now
        let shrinker = ScenarioShrinker(target: target, deadline: .now + budget)
        let focused = shrinker.focused(draft, seed: record.scenario.seed)
        guard shrinker.fails(focused) else { return nil }
        let minimal = ShrinkCapsule.forRealRun(shrinker.shrink(focused))
        guard let failure = shrinker.lastFailure else { return nil }
        return Finding(
            gate: gate,
            metric: target.gate.metric,
            scenario: json,
            minimal: minimal,
            failure: failure,
            statistics: shrinker.statistics,
            occurrences: 1,
            foundAfter: (shrinkStarted - started).seconds,
            shrinkSeconds: (ContinuousClock.now - shrinkStarted).seconds
        )
    }
}
