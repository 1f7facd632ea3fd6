import ArgumentParser
import SquallFaults
import SquallScenarios
import SquallSession

/// The options `squall run` and `squall sim` share: which scenarios, where their reports go, how much to print,
/// and the seeds to run them with (`--seed`, or a `--seeds` hunt for a flaky failure).
struct ScenarioSelection: ParsableArguments {
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
        if let seed = self.seed, seed > 9_007_199_254_740_991 {
            throw ValidationError("--seed must be at most 2^53 - 1 (scenario seeds are JSON numbers)")
        }
        if self.seed != nil && self.seeds != nil { throw ValidationError("give --seed or --seeds, not both") }
        if self.keepGoing && self.seeds == nil { throw ValidationError("--keep-going goes with --seeds") }
    }

    /// Reads and validates every scenario under ``paths`` before anything runs; prints every invalid one (its JSON
    /// paths) after `command` and throws the usage exit status.
    ///
    /// - Parameters:
    ///   - clientLimit: the most clients a scenario may hold.
    ///   - check: a further check of each scenario (what `squall sim` cannot run).
    func loadScenarios(
        command: String,
        clientLimit: Int,
        check: (Scenario) throws(FaultError) -> Void = { _ in }
    ) throws -> [(file: String, scenario: Scenario)] {
        var loaded: [(file: String, scenario: Scenario)] = []
        var failures: [String] = []
        do {
            for file in try ScenarioFiles.list(self.paths) {
                do {
                    let scenario = try ScenarioFiles.load(file, clientLimit: clientLimit)
                    do {
                        try check(scenario)
                        loaded.append((file, scenario))
                    } catch {
                        failures.append("\(file): \(error)")
                    }
                } catch {
                    failures.append("\(error)")
                }
            }
        } catch {
            printError("\(command): \(error)")
            throw ExitStatus.usage
        }
        guard failures.isEmpty else {
            for failure in failures { printError("\(command): invalid \(failure)") }
            throw ExitStatus.usage
        }
        return loaded
    }

    /// A run of a `--seeds` hunt whose gates did not pass.
    typealias FailingRun = SessionResults.FailingRun

    /// The seeds to run each scenario with: every seed of `--seeds`, or `--seed`, or (nil) the scenario's own.
    var seedsToRun: [UInt64?] {
        self.seeds.map { $0.seeds.map { $0 } } ?? [self.seed]
    }

    /// Whether a `--seeds` hunt stops at its first failed run (unless `--keep-going`).
    var stopsAtFailure: Bool {
        self.seeds != nil && !self.keepGoing
    }

    /// Whether a `--seeds` hunt stops after this run: at the first failure, unless `--keep-going`.
    func stopsAfter(_ record: RunRecord) -> Bool {
        record.verdict == .failed && self.stopsAtFailure
    }

    /// After a `--seeds` hunt: how many runs failed and, for each failing or inconclusive seed, a command that
    /// reproduces it.
    func printSeedSummary(_ failing: [FailingRun], runs: Int, command: String) {
        guard self.seeds != nil else { return }
        let failed = failing.filter { $0.verdict == .failed }
        print("")
        print("\(runs) run\(runs == 1 ? "" : "s"), \(failed.count) with failing gates")
        guard !failing.isEmpty else { return }
        print("| scenario | seed | verdict | reproduce |")
        print("|---|---:|---|---|")
        for run in failing {
            print(
                "| \(run.name) | \(run.seed) | \(run.verdict.rawValue) | `\(command) \(run.file) --seed \(run.seed)` (or `squall replay --rerun \(run.folder)`) |"
            )
        }
    }
}
