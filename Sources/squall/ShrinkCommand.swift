import ArgumentParser
import Foundation
import SquallExplore
import SquallFaults
import SquallReports
import SquallScenarios
import SquallSession
import SquallSimulation

/// `squall shrink`: the smallest scenario that still fails the same gate, found in virtual time, written as a
/// capsule to replay.
struct ShrinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shrink",
        abstract: "Shrink a failing scenario in virtual time to the smallest one that fails the same gate.",
        discussion: """
            PATH is a scenario file, or a run's report.json (or its folder), whose scenario and seed are taken. The \
            scenario is simulated once (squall sim); its first failed gate (or --gate) is kept, the other gates and \
            expectations dropped (they change nothing the clients do), then the scenario is reduced while that gate \
            still fails the same way: delta debugging over the timeline's steps, then the client groups and their \
            counts (and their rampUp, startAt and overrides), then each step's strength (shorter, once, fewer \
            targets, a milder handoff, weaker fault attributes: README, "Shrinking"), then the duration. Every \
            candidate is read by the scenario reader; one it refuses is counted and never kept. The capsule folder \
            holds scenario.json (the seed written in) and capsule.json (the gate and its value, sizes before and \
            after, the replay commands, Squall's version and source commit); --confirm runs the shrunk scenario \
            once on real sockets and records its verdict. Exit codes: 0 a capsule was written (and, with --confirm, \
            real sockets fail the same gate), 1 the scenario does not fail in virtual time (nothing to shrink), \
            99 with --confirm: real sockets do not fail the gate, 64 invalid input, 70 internal error.
            """
    )

    @Argument(help: ArgumentHelp("A scenario file, or a run's report.json or folder.", valueName: "path"))
    var path: String

    @Option(name: .long, help: "The seed (default: the report's, else the scenario's).")
    var seed: UInt64?

    @Option(
        name: .long,
        help: ArgumentHelp("The gate to keep failing: its key, or key and expression.", valueName: "gate")
    )
    var gate: String?

    @Option(name: .long, help: "Where the capsule folder goes.")
    var output: String = "capsules"

    @Option(name: .long, help: "Stop shrinking after this long (a duration such as 60s or 5m); the capsule says so.")
    var budget: String = "5m"

    @Flag(name: .long, help: "Run the shrunk scenario once on real sockets (squall run) and record its verdict.")
    var confirm = false

    func validate() throws {
        guard let budget = Duration(parsing: self.budget), budget > .zero else {
            throw ValidationError("--budget: expected a duration above 0 such as \"60s\", found \"\(self.budget)\".")
        }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        let started = ContinuousClock.now
        let (source, recordedSeed) = try Self.load(self.path)
        guard var original = ScenarioDraft(source) else {
            printError("squall shrink: \(self.path): the scenario is not a JSON object")
            throw ExitStatus.usage
        }
        let seed = self.seed ?? recordedSeed ?? Self.scenarioSeed(source)
        original[member: "seed"] = .number(Double(seed))
        let scenario: Scenario
        do {
            scenario = try Scenario(json: original.json, clientLimit: Scenario.maximumSimulatedClients)
            try SimulationRunner.check(scenario)
        } catch {
            printError("squall shrink: invalid \(self.path): \(error)")
            throw ExitStatus.usage
        }
        let record: RunRecord
        do {
            record = try SimulationRunner(scenario: scenario).run()
        } catch {
            printError("squall shrink: \(scenario.name): \(error)")
            throw ExitStatus.internalError
        }
        guard let target = ShrinkTarget.failing(in: record, named: self.gate) else {
            let which = self.gate.map { "gate \($0) does not fail" } ?? "no gate fails"
            print("squall shrink: \(scenario.name) (seed \(seed)): \(which) in virtual time; nothing to shrink")
            throw ExitCode(1)
        }
        let budget = Duration(parsing: self.budget)!
        let shrinker = ScenarioShrinker(target: target, deadline: started + budget)
        print(
            "▶ shrinking \(scenario.name) (seed \(seed)): keeping \(target.gate.key) \(target.gate.expression) failing"
        )
        let focused = shrinker.focused(original, seed: seed)
        guard shrinker.fails(focused) else {
            printError(
                "squall shrink: \(scenario.name): the gate passes once the other gates and expectations are dropped; "
                    + "this is a bug in Squall"
            )
            throw ExitStatus.internalError
        }
        var minimal = ShrinkCapsule.forRealRun(shrinker.shrink(focused))
        minimal[member: "description"] = .string(
            "Shrunk by squall shrink from \(scenario.name) (seed \(seed)): \(target.gate.key) \(target.gate.expression) "
                + "fails. " + (scenario.description.isEmpty ? "" : "The original: \(scenario.description)")
        )
        guard let failure = shrinker.lastFailure else { throw ExitStatus.internalError }
        var capsule = ShrinkCapsule(
            scenario: minimal.json,
            seed: seed,
            failure: failure,
            original: original,
            minimal: minimal,
            statistics: shrinker.statistics,
            seconds: (ContinuousClock.now - started).milliseconds / 1_000,
            sourceCommit: SourceCommit.current
        )
        let folder = (self.output as NSString).appendingPathComponent("\(scenario.name)-seed\(seed)")
        if self.confirm {
            try await self.confirm(&capsule, target: target, minimal: minimal, folder: folder)
        }
        capsule.seconds = (ContinuousClock.now - started).milliseconds / 1_000
        try Self.write(capsule, to: folder)
        self.printSummary(capsule, folder: folder)
        if self.confirm, capsule.realVerdict?.verdict != .failed { throw ExitStatus.gateFailed }
    }

    /// Runs the shrunk scenario once on real sockets and records the target gate's verdict there.
    private func confirm(
        _ capsule: inout ShrinkCapsule,
        target: ShrinkTarget,
        minimal: ScenarioDraft,
        folder: String
    ) async throws {
        let session = ScenarioSession(
            output: (folder as NSString).appendingPathComponent("real-run"),
            quiet: true,
            command: "squall shrink",
            signals: ShutdownSignal()
        )
        do {
            let scenario = try Scenario(json: minimal.json)
            let real: RunRecord
            switch try await session.run(scenario) {
            case .ran(let record, _): real = record
            case .refused(_, let reason):
                capsule.realProblem = "the real run was refused: \(reason)"
                return
            }
            let stepName = target.originalStep.flatMap { original in
                minimal.steps.firstIndex { $0.original == original }.map { scenario.timeline[$0].name }
            }
            if let result = target.result(in: real, stepName: stepName) {
                capsule.realVerdict = result
            } else {
                capsule.realProblem = "the real run has no result for the gate"
            }
        } catch let error as SessionFailure {
            capsule.realProblem = error.message
        } catch {
            capsule.realProblem = "\(error)"
        }
    }

    private func printSummary(_ capsule: ShrinkCapsule, folder: String) {
        func describe(_ draft: ScenarioDraft) -> String {
            guard case .object(let size) = ShrinkCapsule.size(draft) else { return "" }
            let steps = size["steps"]?.jsonText ?? "?"
            let clients = size["clients"]?.jsonText ?? "?"
            let duration =
                size["duration"].flatMap { value -> String? in
                    if case .string(let text) = value { return text }
                    return nil
                } ?? "?"
            let plural = { (count: String, noun: String) in "\(count) \(noun)\(count == "1" ? "" : "s")" }
            return "\(plural(steps, "step")), \(plural(clients, "client")), \(duration)"
        }
        let observed = capsule.failure.observed.map(JSONValue.format) ?? "no samples"
        print(
            "✔ \(capsule.failure.gate.key) \(capsule.failure.gate.expression) still fails (observed \(observed)): "
                + "\(describe(capsule.original)) → \(describe(capsule.minimal))"
        )
        let statistics = capsule.statistics
        print(
            "    \(statistics.runs) simulations, \(statistics.invalid) candidates refused by the reader, "
                + "\(String(format: "%.1f", capsule.seconds)) s"
                + (statistics.complete ? "" : "; the budget ran out before every pass finished")
        )
        if let real = capsule.realVerdict {
            let value = real.observed.map(JSONValue.format) ?? "no samples"
            print("    real sockets: \(real.verdict.label) (observed \(value))")
        } else if let problem = capsule.realProblem {
            print("    real sockets: no verdict: \(problem)")
        }
        print("    capsule: \(folder)/capsule.json; replay: squall sim \(folder)/scenario.json")
    }

    /// The scenario JSON and, for a report, its recorded seed.
    private static func load(_ path: String) throws -> (JSONValue, UInt64?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            printError("squall shrink: \(path): no such file or folder")
            throw ExitStatus.usage
        }
        let file = isDirectory.boolValue ? (path as NSString).appendingPathComponent("report.json") : path
        guard let data = FileManager.default.contents(atPath: file) else {
            printError("squall shrink: \(file): unreadable")
            throw ExitStatus.usage
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(Array(data))
        } catch {
            printError("squall shrink: \(file): \(error)")
            throw ExitStatus.usage
        }
        // A report holds its scenario and seed; a scenario file is one.
        if case .object(let members) = json, let scenario = members["scenario"], members["verdict"] != nil {
            var seed: UInt64?
            if case .number(let value)? = members["seed"], value >= 0, value.rounded() == value {
                seed = UInt64(exactly: value)
            }
            return (scenario, seed)
        }
        return (json, nil)
    }

    /// The seed a scenario document gives (1 when it gives none).
    private static func scenarioSeed(_ json: JSONValue) -> UInt64 {
        guard case .object(let members) = json, let key = ScenarioDraft.key("seed", in: members),
            case .number(let value)? = members[key], let seed = UInt64(exactly: value)
        else { return 1 }
        return seed
    }

    private static func write(_ capsule: ShrinkCapsule, to folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try (capsule.scenario.prettyText + "\n").write(
                toFile: folder + "/scenario.json",
                atomically: true,
                encoding: .utf8
            )
            try (capsule.document(folder: folder).prettyText + "\n").write(
                toFile: folder + "/capsule.json",
                atomically: true,
                encoding: .utf8
            )
        } catch {
            printError("squall shrink: cannot write \(folder): \(error)")
            throw ExitStatus.internalError
        }
    }
}
