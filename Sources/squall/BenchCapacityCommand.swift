import ArgumentParser
import Foundation
import SquallBenchmarks
import SquallFaults
import SquallScenarios
import SquallSession

/// `squall bench capacity`: how many reference clients this machine drives with the harness within its bound.
struct BenchCapacityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity",
        abstract: "Find how many reference clients this machine drives honestly through a handoff.",
        discussion: """
            Runs a thundering-herd scenario (resilient clients ramping up over 5 s, every socket reset at 10 s, a \
            2 s blackout) with --start clients, doubling while the harness stays within its lag bound (a tenth of \
            the shortest client timing after timeScale, 10 to 100 ms), then narrowing between the last healthy and \
            the first overloaded size. Prints each trial and the largest healthy size. Build with -c release.

            With --shards N every trial runs as `squall run --shards N` does: N child processes, each with its \
            share of the cores and its own descriptor limit, merged into one run whose harness is healthy only if \
            every shard's was. That is how sizes beyond one process's descriptors are measured.

            Exit codes: 0 measured, 64 usage, 70 a sharded trial could not run (its shards left no log).
            """
    )

    @Option(name: .long, help: "The scenario's timeScale (the bound follows it).")
    var timeScale: Double = 1

    @Option(name: .long, help: "Clients in the first trial.")
    var start: Int = 250

    @Option(name: .long, help: "The largest trial (at most 5000 per shard).")
    var maximum: Int = 5_000

    @Option(name: .long, help: "Bisection steps after the first overloaded trial.")
    var refinements: Int = 3

    @Option(name: .long, help: "Run every trial as N shards in N child processes (as `squall run --shards N`).")
    var shards: Int = 1

    func validate() throws {
        guard (0.001...100).contains(self.timeScale) else {
            throw ValidationError("--time-scale must be from 0.001 to 100")
        }
        guard (0...10).contains(self.refinements) else { throw ValidationError("--refinements must be from 0 to 10") }
        guard (1...64).contains(self.shards) else { throw ValidationError("--shards takes 1 to 64") }
        // One runner holds up to Scenario.maximumClients; every shard is a runner.
        let limit = Scenario.maximumClients * self.shards
        guard (1...limit).contains(self.start), (self.start...limit).contains(self.maximum) else {
            throw ValidationError(
                "--start must be from 1 to \(limit) and --maximum from --start to \(limit) "
                    + "(\(Scenario.maximumClients) per shard; more with --shards)"
            )
        }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        #if DEBUG
        print(
            "note: this is a debug build; `swift run -c release squall bench capacity` measures what CI runs should use"
        )
        #endif
        let benchmark = CapacityBenchmark(
            timeScale: self.timeScale,
            start: self.start,
            maximum: self.maximum,
            refinements: self.refinements,
            shards: self.shards
        )
        let bound = HarnessBound(try benchmark.scenario(clients: self.start))
        print(
            "harness bound at timeScale \(JSONValue.format(self.timeScale)): \(JSONValue.format(bound.milliseconds)) ms (\(bound.reason))"
        )
        if self.shards > 1 { print("every trial runs as \(self.shards) shards (child processes), merged") }
        print("clients  harness     lag p99   lag max   CPU cores  gates     wall")
        let shards = self.shards
        let (trials, capacity) = try await benchmark.run { scenario, json in
            guard shards > 1 else {
                try DescriptorBudget.check(scenario) {
                    "run the trials as shards (`squall bench capacity --shards \($0)`)"
                }
                return try await ScenarioRunner(scenario: scenario).run()
            }
            return try await Self.runSharded(scenario, json: json, shards: shards)
        } report: { trial in
            guard let record = trial.record else {
                print("\(Self.pad(trial.clients, 7))  not run: \(trial.failure ?? "")")
                return
            }
            let health = record.harness
            let columns = [
                Self.pad(trial.clients, 7),
                (health.overloaded ? "OVERLOADED" : "healthy").padding(toLength: 10, withPad: " ", startingAt: 0),
                Self.pad(health.lagP99.map { HarnessHealth.format($0) + " ms" } ?? "-", 8),
                Self.pad(health.lagMax.map { HarnessHealth.format($0) + " ms" } ?? "-", 8),
                Self.pad(health.cpuMax.map { HarnessHealth.format($0) } ?? "-", 9),
                "\(record.gates.filter(\.passed).count)/\(record.gates.count)".padding(
                    toLength: 8,
                    withPad: " ",
                    startingAt: 0
                ),
                HarnessHealth.format(trial.seconds) + " s",
            ]
            print(columns.joined(separator: "  "))
        }
        if capacity > 0 {
            print(
                "this machine drives \(capacity) reference clients honestly at timeScale \(JSONValue.format(self.timeScale))\(self.shards > 1 ? " as \(self.shards) shards" : "") (harness lag within \(JSONValue.format(bound.milliseconds)) ms through the handoff)"
            )
        } else if let overloaded = trials.first(where: { $0.record != nil }) {
            print(
                "even \(overloaded.clients) clients overloaded the harness at timeScale \(JSONValue.format(self.timeScale)): try a release build or a larger --time-scale"
            )
        } else {
            // No trial ran: nothing was measured, so no capacity is claimed and no overload either.
            print(
                "no trial ran (not run: \(trials.first?.failure ?? "no trial")), so nothing was measured; "
                    + "see the advice above"
            )
        }
    }

    /// Runs one trial as `shards` child processes from a scratch folder, which it removes afterwards.
    private static func runSharded(_ scenario: Scenario, json: String, shards: Int) async throws -> RunRecord {
        // Refused here, with the descriptor figures, rather than by every shard at once.
        try DescriptorBudget.check(scenario, shard: Shard(index: 0, count: shards))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "squall-bench-\(ProcessInfo.processInfo.processIdentifier)-\(scenario.clientCount)"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/scenario.json"
        try json.write(toFile: file, atomically: true, encoding: .utf8)
        let sharded = ShardedRun(
            count: shards,
            output: folder + "/reports",
            quiet: true,
            executable: OwnExecutable.path,
            printsVerdict: false
        )
        do {
            return try await sharded.run(file: file, scenario: scenario, seed: nil, signals: nil)
        } catch {
            throw ExitStatus.reporting(error, command: "squall bench capacity")
        }
    }

    private static func pad(_ value: some CustomStringConvertible, _ width: Int) -> String {
        let text = value.description
        return text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
