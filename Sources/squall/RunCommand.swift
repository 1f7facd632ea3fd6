import ArgumentParser
import SquallScenarios

/// `squall run`: runs scenarios against the reference system through the fault proxy, writes reports, and exits
/// non-zero when a gate fails — Squall's main job.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run JSON scenarios, check their gates, write reports (exit 99 when a gate fails).",
        discussion: """
            Every scenario is validated before anything starts (exit 64 naming the JSON path). Each run writes \
            <output>/<scenario>/<UTC time>/ with events.ndjson, report.json, junit.xml, summary.md and report.html, \
            and <output>/junit.xml combines every scenario of the invocation. Exit codes: 0 all gates passed, 99 a \
            gate failed, 64 invalid scenario or usage, 70 internal error, 130 interrupted (SIGINT/SIGTERM: faults \
            are healed, clients stopped, and the partial report is written). --seeds A..B hunts flaky failures: \
            one run per seed, a table of failing seeds with the command that reproduces each.
            """
    )

    @Argument(help: "Scenario files or folders (default: scenarios/).")
    var paths: [String] = ["scenarios"]

    @Option(name: .long, help: "Where reports go.")
    var output: String = "reports"

    @Flag(name: .long, help: "Print only each scenario's verdict.")
    var quiet = false

    @Option(name: .long, help: "Run with this seed instead of each scenario's own (a whole number).")
    var seed: UInt64?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Run each scenario once per seed of A..B (at most 10 000 seeds), stopping at the first run whose gates fail unless --keep-going; ends with the failing seeds and a command reproducing each.",
            valueName: "A..B"
        )
    )
    var seeds: SeedRange?

    @Flag(name: .long, help: "With --seeds, run every seed even after one fails.")
    var keepGoing = false

    func validate() throws {
        if self.seed != nil && self.seeds != nil { throw ValidationError("give --seed or --seeds, not both") }
        if self.keepGoing && self.seeds == nil { throw ValidationError("--keep-going goes with --seeds") }
        if let seed = self.seed, seed > 9_007_199_254_740_991 {
            throw ValidationError("--seed must be at most 2^53 - 1 (scenario seeds are JSON numbers)")
        }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        let signals = ShutdownSignal()
        let scenarios: [(file: String, scenario: Scenario)]
        do {
            let files = try ScenarioFiles.list(self.paths)
            var loaded: [(file: String, scenario: Scenario)] = []
            var failures: [String] = []
            for file in files {
                do {
                    loaded.append((file, try ScenarioFiles.load(file)))
                } catch {
                    failures.append("\(error)")
                }
            }
            guard failures.isEmpty else {
                for failure in failures { printError("squall run: invalid \(failure)") }
                throw ExitStatus.usage
            }
            scenarios = loaded
        } catch let error as ScenarioError {
            printError("squall run: \(error)")
            throw ExitStatus.usage
        }
        let session = ScenarioSession(output: self.output, quiet: self.quiet, command: "squall run", signals: signals)
        var records: [RunRecord] = []
        var failing: [(file: String, name: String, seed: UInt64, folder: String, verdict: RunVerdict)] = []
        runs: for (file, scenario) in scenarios {
            let seeds: [UInt64?] = self.seeds.map { $0.seeds.map { $0 } } ?? [self.seed]
            for seed in seeds {
                let (record, folder) = try await session.run(seed.map { scenario.seeded($0) } ?? scenario)
                records.append(record)
                if record.interrupted { break runs }
                if record.verdict != .passed {
                    failing.append((file, scenario.name, seed ?? scenario.seed, folder, record.verdict))
                    if record.verdict == .failed && self.seeds != nil && !self.keepGoing { break runs }
                }
            }
        }
        try session.writeCombinedJUnit(records)
        if self.seeds != nil {
            Self.printSeedSummary(failing, runs: records.count)
        }
        let exit = ExitStatus.of(records.map(\.verdict))
        if exit != ExitStatus.success { throw exit }
    }

    /// The failing seeds of a `--seeds` hunt, each with a command that reproduces it.
    private static func printSeedSummary(
        _ failing: [(file: String, name: String, seed: UInt64, folder: String, verdict: RunVerdict)],
        runs: Int
    ) {
        let failed = failing.filter { $0.verdict == .failed }
        print("")
        print("\(runs) run\(runs == 1 ? "" : "s"), \(failed.count) with failing gates")
        guard !failing.isEmpty else { return }
        print("| scenario | seed | verdict | reproduce |")
        print("|---|---:|---|---|")
        for run in failing {
            print(
                "| \(run.name) | \(run.seed) | \(run.verdict.rawValue) | `squall run \(run.file) --seed \(run.seed)` (or `squall replay --rerun \(run.folder)`) |"
            )
        }
    }
}
