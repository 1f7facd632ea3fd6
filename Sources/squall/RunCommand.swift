import ArgumentParser
import SquallScenarios
import SquallSession

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
            gate failed (a safety gate whatever the harness did; any gate that still fails without the samples an \
            overload window covered), 75 inconclusive (a gate failed only on samples the harness's overload may \
            have caused, or passed under overload covering more than a quarter of the run, or the run needs more \
            file descriptors than this process may open), 64 invalid scenario or usage, 70 internal error, 130 \
            interrupted (SIGINT/SIGTERM: faults are healed, clients stopped, and the partial report is written); \
            with several scenarios the most serious: 130, then 99, then 75, then 0. --seeds A..B hunts flaky failures: \
            one run per seed, a table of failing seeds with the command that reproduces each.
            """
    )

    @OptionGroup var selection: ScenarioSelection

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Run only shard i of N: the clients at positions i, i+N, … of the plan, with their own server and proxies (merge the shards' folders with squall merge).",
            valueName: "i/N"
        )
    )
    var shard: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Start at this Unix time (whole seconds), the same for every shard, so their timelines line up.",
            valueName: "epoch-seconds"
        )
    )
    var startAt: Int?

    @Option(name: .long, help: "This runner's clock minus the reference clock, in ms (written for squall merge).")
    var clockOffset: Double = 0

    @Option(
        name: .long,
        help: "Run each scenario as N shards in N child processes on this machine, then merge them into one verdict."
    )
    var shards: Int?

    func validate() throws {
        if let shard = self.shard, Shard(parsing: shard) == nil {
            throw ValidationError("--shard takes i/N with 0 ≤ i < N, e.g. 0/3")
        }
        if self.shard != nil && self.selection.seeds != nil {
            throw ValidationError("give --shard or --seeds, not both")
        }
        if self.startAt != nil && self.shard == nil { throw ValidationError("--start-at goes with --shard") }
        if let shards = self.shards {
            guard (1...64).contains(shards) else { throw ValidationError("--shards takes 1 to 64") }
            guard self.shard == nil, self.selection.seeds == nil else {
                throw ValidationError("--shards goes without --shard and --seeds")
            }
        }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        let signals = ShutdownSignal()
        // Sharded, each runner drives a slice: the scenario may hold that many times more clients.
        let runners = self.shards ?? self.shard.flatMap(Shard.init(parsing:))?.count ?? 1
        let scenarios = try self.selection.loadScenarios(
            command: "squall run",
            clientLimit: Scenario.maximumClients * runners
        )
        if let shards = self.shards {
            let sharded = ShardedRun(
                count: shards,
                output: self.selection.output,
                quiet: self.selection.quiet,
                executable: OwnExecutable.path
            )
            var records: [RunRecord] = []
            do throws(SessionFailure) {
                for (file, scenario) in scenarios {
                    let record = try await sharded.run(
                        file: file,
                        scenario: scenario,
                        seed: self.selection.seed,
                        signals: signals
                    )
                    records.append(record)
                }
                try ScenarioSession.writeCombinedJUnit(records, output: self.selection.output)
            } catch {
                try? ScenarioSession.writeCombinedJUnit(records, output: self.selection.output)
                throw ExitStatus.reporting(error, command: "squall run")
            }
            let exit = ExitStatus.of(records.map(\.verdict))
            if exit != ExitStatus.success { throw exit }
            return
        }
        var session = ScenarioSession(
            output: self.selection.output,
            quiet: self.selection.quiet,
            command: "squall run",
            signals: signals
        )
        session.shard = self.shard.flatMap(Shard.init(parsing:))
        session.startAt = self.startAt.map { Double($0) * 1_000 }
        session.clockOffset = self.clockOffset
        let results: SessionResults
        do {
            results = try await session.runAll(
                scenarios.map { (file: $0.file, scenario: $0.scenario) },
                seeds: self.selection.seedsToRun,
                stopAtFailure: self.selection.stopsAtFailure
            )
        } catch {
            throw ExitStatus.reporting(error, command: "squall run")
        }
        self.selection.printSeedSummary(results.failing, runs: results.records.count, command: "squall run")
        if session.shard != nil {
            // A shard holds a slice of the clients: its gates are judged on the merged run, never on the slice
            // (k6's operator judges thresholds per runner; Squall does not). Only an interruption or a refusal is
            // its own.
            let exit = ExitStatus.code(results.shardExit)
            if exit != ExitStatus.success { throw exit }
            if !self.selection.quiet { print("gates are judged on the merged run: squall merge the shards' folders") }
            return
        }
        let exit = ExitStatus.code(results.exit)
        if exit != ExitStatus.success { throw exit }
    }
}
