import SquallFaults
import SquallScenarios
import SquallSimulation

/// Shrinks a failing scenario in virtual time to a smaller one that still fails the same gate: delta debugging over
/// the timeline's steps, then the client groups and their counts, then each step's strength, then the duration —
/// repeated until a round changes nothing (or the time budget is spent). A gate that asks for something to happen
/// (``ShrinkTarget/asksForActivity``) keeps its steps whole, and no run is cut shorter than ``shortestRun(_:)``:
/// otherwise "nothing happened" would be the smallest failure of all.
///
/// Every candidate is a whole scenario read by the same strict reader as a user's file: one that does not validate
/// is counted and never kept. Each candidate runs once (results are cached by its JSON text); the simulation is
/// deterministic, so a candidate that failed once fails again with the same seed.
package final class ScenarioShrinker {
    /// How a shrink went.
    package struct Statistics: Sendable, Hashable {
        /// Candidates simulated.
        package var runs = 0
        /// Candidates the scenario reader (or the simulator's check) refused.
        package var invalid = 0
        /// Candidates kept (each a smaller failing scenario).
        package var kept = 0
        /// Whether every pass ran to its end (false when the budget ran out first).
        package var complete = true
    }

    /// The failure kept.
    package let target: ShrinkTarget
    /// What the shrink did so far.
    package private(set) var statistics = Statistics()
    /// The gate's result in the last failing candidate's run.
    package private(set) var lastFailure: GateResult?
    private let deadline: ContinuousClock.Instant?
    private var cache: [String: Bool] = [:]

    /// A shrinker keeping `target`, stopping its passes at `deadline`.
    package init(target: ShrinkTarget, deadline: ContinuousClock.Instant? = nil) {
        self.target = target
        self.deadline = deadline
    }

    /// The scenario reduced to the target gate alone: the other gates and expectations go (they change no event of
    /// the run, only what is judged), the seed is written in.
    package func focused(_ draft: ScenarioDraft, seed: UInt64) -> ScenarioDraft {
        var draft = draft
        draft[member: "seed"] = .number(Double(seed))
        if self.target.originalStep == nil {
            draft[member: "gates"] = .object([self.target.gate.key: .array([.string(self.target.gate.expression)])])
        } else if let key = ScenarioDraft.key("gates", in: draft.members) {
            draft.members.removeValue(forKey: key)
        }
        for index in draft.steps.indices {
            guard case .object(var entry) = draft.steps[index].json,
                let expectKey = ScenarioDraft.key("expect", in: entry)
            else { continue }
            if draft.steps[index].original == self.target.originalStep, case .object(let expect)? = entry[expectKey],
                let kept = self.expectationKey, let key = ScenarioDraft.key(kept, in: expect)
            {
                entry[expectKey] = .object([key: expect[key]!])
            } else {
                entry.removeValue(forKey: expectKey)
            }
            draft.steps[index].json = .object(entry)
        }
        return draft
    }

    /// The `expect` key that makes the target's step gate.
    private var expectationKey: String? {
        switch self.target.gate.metric {
        case .stepRecovery: "recoveredWithin"
        case .stepFallback: "fellBackWithin"
        case .stepLostMessages: "noLoss"
        case .fallbackRate, .websocketSuccessRate, .completionRate, .stuckOnPollingRate, .duplicateMessages,
            .lostMessages, .unexpectedMessages, .updateLatency, .timeToFirstUpdate, .reconnectAttempts, .timeToRecover,
            .timeToFallback, .timeOnPollingAfterRecovery, .pollingRequests, .connectRatePeak, .pollingRatePeak,
            .malformedOutput, .faultEvents, .faultsNotInjected, .resumeSuccessRate, .timeToResume, .replayedEvents:
            nil
        }
    }

    /// Shrinks `draft` (already ``focused(_:seed:)`` and failing) as far as the passes go.
    package func shrink(_ draft: ScenarioDraft) -> ScenarioDraft {
        var current = draft
        for _ in 0..<4 {
            let before = current
            if !self.target.asksForActivity { current = self.shrinkSteps(current) }
            current = self.shrinkGroups(current)
            if !self.target.asksForActivity { current = self.shrinkStrength(current) }
            current = self.shrinkDuration(current)
            if current == before || self.outOfTime { break }
        }
        return current
    }

    /// Whether `draft` still fails the target gate in virtual time (false for an invalid scenario).
    package func fails(_ draft: ScenarioDraft) -> Bool {
        let json = draft.json
        let text = json.jsonText
        if let known = self.cache[text] { return known }
        if self.outOfTime {
            self.statistics.complete = false
            return false
        }
        let result = self.evaluate(json, draft: draft)
        self.cache[text] = result
        return result
    }

    private var outOfTime: Bool {
        self.deadline.map { ContinuousClock.now >= $0 } ?? false
    }

    private func evaluate(_ json: JSONValue, draft: ScenarioDraft) -> Bool {
        let scenario: Scenario
        do {
            scenario = try Scenario(json: json, clientLimit: Scenario.maximumSimulatedClients)
            try SimulationRunner.check(scenario)
        } catch {
            self.statistics.invalid += 1
            return false
        }
        self.statistics.runs += 1
        guard let record = try? SimulationRunner(scenario: scenario).run() else { return false }
        let stepName = self.target.originalStep.flatMap { original in
            draft.steps.firstIndex { $0.original == original }.map { scenario.timeline[$0].name }
        }
        let result = self.target.result(in: record, stepName: stepName)
        guard self.target.isSameFailure(result) else { return false }
        self.lastFailure = result
        return true
    }

    /// Keeps `candidate` when it fails, else `current`.
    private func keep(_ candidate: ScenarioDraft, over current: ScenarioDraft) -> ScenarioDraft {
        guard candidate != current, self.fails(candidate) else { return current }
        self.statistics.kept += 1
        return candidate
    }

    /// ddmin over the timeline's steps; the target step of a step gate stays.
    private func shrinkSteps(_ draft: ScenarioDraft) -> ScenarioDraft {
        let pinned = draft.steps.filter { $0.original == self.target.originalStep }
        let free = draft.steps.filter { $0.original != self.target.originalStep }
        func with(_ steps: [ScenarioDraft.Step]) -> ScenarioDraft {
            var candidate = draft
            candidate.steps = (steps + pinned).sorted { $0.original < $1.original }
            return candidate
        }
        let kept = DeltaDebugging.minimize(free) { self.fails(with($0)) }
        return self.keep(with(kept), over: draft)
    }

    /// ddmin over the client groups (at least one stays), then each group's count, start spread and overrides.
    private func shrinkGroups(_ draft: ScenarioDraft) -> ScenarioDraft {
        var current = draft
        let groups = DeltaDebugging.minimize(current.clients, allowEmpty: false) { groups in
            var candidate = current
            candidate.clients = groups
            return self.fails(candidate)
        }
        var fewer = current
        fewer.clients = groups
        current = self.keep(fewer, over: current)
        for index in current.clients.indices {
            // The count, down a ladder toward one.
            while case .object(let group) = current.clients[index],
                let key = ScenarioDraft.key("count", in: group), case .number(let count)? = group[key], count > 1
            {
                let whole = Int(count)
                let ladder = Set([1, 2, whole / 4, whole / 2, whole * 3 / 4, whole - 1]).filter {
                    $0 >= 1 && $0 < whole
                }
                var reduced = false
                for smaller in ladder.sorted() {
                    var candidate = current
                    var edited = group
                    edited[key] = .number(Double(smaller))
                    candidate.clients[index] = .object(edited)
                    let kept = self.keep(candidate, over: current)
                    if kept != current {
                        current = kept
                        reduced = true
                        break
                    }
                }
                if !reduced { break }
            }
            // Everyone at once, and the preset as shipped.
            for name in ["rampUp", "startAt", "overrides"] {
                guard case .object(var group) = current.clients[index], let key = ScenarioDraft.key(name, in: group)
                else { continue }
                group.removeValue(forKey: key)
                var candidate = current
                candidate.clients[index] = .object(group)
                current = self.keep(candidate, over: current)
            }
        }
        return current
    }

    /// Each step made milder while the failure stays (``StepWeakening``).
    private func shrinkStrength(_ draft: ScenarioDraft) -> ScenarioDraft {
        var current = draft
        for index in current.steps.indices {
            var weakened = true
            while weakened, !self.outOfTime {
                weakened = false
                for variant in StepWeakening.variants(of: current.steps[index].json) {
                    var candidate = current
                    candidate.steps[index].json = variant
                    let kept = self.keep(candidate, over: current)
                    if kept != current {
                        current = kept
                        weakened = true
                        break
                    }
                }
            }
        }
        return current
    }

    /// The run made shorter and plainer while the failure stays: the network profile dropped, the job shortened,
    /// each step brought earlier, then the duration cut (each halved, or a quarter off).
    private func shrinkDuration(_ draft: ScenarioDraft) -> ScenarioDraft {
        var current = draft
        if let key = ScenarioDraft.key("network", in: current.members) {
            var candidate = current
            candidate.members.removeValue(forKey: key)
            current = self.keep(candidate, over: current)
        }
        current = self.reduce(current, floor: .value(1)) { draft in
            guard case .object(let server)? = draft[member: "server"],
                let jobKey = ScenarioDraft.key("job", in: server),
                case .object(let job)? = server[jobKey], let key = ScenarioDraft.key("totalItems", in: job),
                case .number(let items)? = job[key]
            else { return nil }
            return (
                Int(items),
                { smaller in
                    var (server, job) = (server, job)
                    job[key] = .number(Double(smaller))
                    server[jobKey] = .object(job)
                    var candidate = draft
                    candidate[member: "server"] = .object(server)
                    return candidate
                }
            )
        }
        // An activity gate's steps stay where they are: a fault moved before the clients start triggers nothing.
        for index in current.steps.indices where !self.target.asksForActivity {
            current = self.reduce(current, floor: .value(0)) { draft in
                guard case .object(let entry) = draft.steps[index].json, let key = ScenarioDraft.key("at", in: entry),
                    let at = ScenarioDraft.milliseconds(entry[key]).map({ Int($0) })
                else { return nil }
                return (
                    at,
                    { earlier in
                        var (candidate, entry) = (draft, entry)
                        entry[key] = .string("\(earlier)ms")
                        candidate.steps[index].json = .object(entry)
                        return candidate
                    }
                )
            }
        }
        return self.reduce(current, floor: .shortestRun) { draft in
            guard let duration = ScenarioDraft.milliseconds(draft[member: "duration"]).map({ Int($0) }) else {
                return nil
            }
            return (
                duration,
                { shorter in
                    var candidate = draft
                    candidate[member: "duration"] = .string("\(shorter)ms")
                    return candidate
                }
            )
        }
    }

    /// A whole number in a draft, and the draft with another value in its place.
    private typealias Knob = (value: Int, with: (Int) -> ScenarioDraft)

    /// How low a reduced number may go.
    private enum Floor {
        /// A fixed value.
        case value(Int)
        /// ``ScenarioShrinker/shortestRun(_:)`` of the draft as it is then.
        case shortestRun
    }

    /// Lowers the number `knob` reads (by half, else by a quarter, never below `floor`) while the failure stays.
    private func reduce(_ draft: ScenarioDraft, floor: Floor, _ knob: (ScenarioDraft) -> Knob?) -> ScenarioDraft {
        var current = draft
        while !self.outOfTime, let (value, with) = knob(current) {
            let floor =
                switch floor {
                case .value(let value): value
                case .shortestRun: Self.shortestRun(current)
                }
            let options = [value / 2, value * 3 / 4].filter { $0 >= floor && $0 < value }
            guard let kept = options.lazy.map(with).first(where: { self.keep($0, over: current) != current }) else {
                break
            }
            current = kept
        }
        return current
    }

    /// The shortest run a shrink may leave (ms): the last client's start plus twice its job's length (items ×
    /// interval), so a client that does not finish is a finding, not a run cut short.
    package static func shortestRun(_ draft: ScenarioDraft) -> Int {
        func duration(_ object: [String: JSONValue], _ name: String) -> Int? {
            ScenarioDraft.key(name, in: object).flatMap { ScenarioDraft.milliseconds(object[$0]) }.map { Int($0) }
        }
        var items = 20
        var interval = 250
        if case .object(let server)? = draft[member: "server"], let jobKey = ScenarioDraft.key("job", in: server),
            case .object(let job)? = server[jobKey]
        {
            if let key = ScenarioDraft.key("totalItems", in: job), case .number(let count)? = job[key] {
                items = Int(count)
            }
            interval = duration(job, "itemInterval") ?? interval
        }
        let lastStart =
            draft.clients.map { group -> Int in
                guard case .object(let members) = group else { return 0 }
                return (duration(members, "startAt") ?? 0) + (duration(members, "rampUp") ?? 0)
            }.max() ?? 0
        return lastStart + 2 * items * interval
    }
}
