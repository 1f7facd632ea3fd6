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
    var budget = SearchBudget(argument: "5m")!

    @Flag(name: .long, help: "Run the shrunk scenario once on real sockets (squall run) and record its verdict.")
    var confirm = false

    func run() async throws {
        StandardOutput.useLineBuffering()
        let started = ContinuousClock.now
        let (source, recordedSeed) = try Self.load(self.path)
        guard var original = ScenarioDraft(source) else {
            printError("squall shrink: \(self.path): the scenario is not a JSON object")
            throw ExitStatus.usage
        }
        let seed = self.seed ?? recordedSeed ?? original.seed ?? 1
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
        let shrinker = ScenarioShrinker(target: target, deadline: started + self.budget.duration)
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
            failure: failure,
            original: original,
            minimal: minimal,
            statistics: shrinker.statistics,
            seconds: (ContinuousClock.now - started).milliseconds / 1_000,
            sourceCommit: SourceCommit.current
        )
        let folder = (self.output as NSString).appendingPathComponent("\(scenario.name)-seed\(seed)")
        if self.confirm {
            switch await RealConfirmation.run(minimal, gate: failure.gate, folder: folder, command: "squall shrink") {
            case .success(let result): capsule.realVerdict = result
            case .failure(let problem): capsule.realProblem = problem.message
            }
        }
        capsule.seconds = (ContinuousClock.now - started).milliseconds / 1_000
        do {
            try capsule.write(to: folder)
        } catch {
            printError("squall shrink: cannot write \(folder): \(error)")
            throw ExitStatus.internalError
        }
        self.printSummary(capsule, folder: folder)
        if self.confirm, capsule.realVerdict?.verdict != .failed { throw ExitStatus.gateFailed }
    }

    private func printSummary(_ capsule: ShrinkCapsule, folder: String) {
        let observed = capsule.failure.observed.map(JSONValue.format) ?? "no samples"
        print(
            "✔ \(capsule.failure.gate.key) \(capsule.failure.gate.expression) still fails (observed \(observed)): "
                + "\(capsule.original.sizeDescription) → \(capsule.minimal.sizeDescription)"
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
            guard case .number(let seed)? = members["seed"] else { return (scenario, nil) }
            return (scenario, UInt64(exactly: seed))
        }
        return (json, nil)
    }
}
