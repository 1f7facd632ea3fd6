import ArgumentParser
import Foundation
import SquallFaults
import SquallReports
import SquallScenarios
import SquallSimulation

/// `squall sim`: the same scenarios in virtual time — the reference server and clients and the fault proxies in
/// one discrete-event simulation, with the same reports, gates and exit codes as `squall run`.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract:
            "Run JSON scenarios in virtual time (no sockets, up to 1 000 000 clients); same reports and exit codes.",
        discussion: """
            The reference server, the reference clients and every group's proxy run in one discrete-event \
            simulation: one virtual clock that jumps to the next event, one seeded random tree, no sockets and no \
            threads, so one seed always gives a byte-identical events.ndjson. timeScale is ignored (virtual time is \
            free); the report says "mode": "sim". External servers and clients, and fault modes the simulator has \
            no meaning for, are refused with their JSON paths (exit 64). Exit codes as squall run: 0 passed, 99 a \
            gate failed, 64 invalid scenario, 70 internal error (also: --check-determinism found two runs that differ).
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

    @Flag(name: .long, help: "Run each scenario twice and fail (exit 70) naming the first line where the logs differ.")
    var checkDeterminism = false

    @Flag(
        name: .long,
        help:
            "Also run each scenario on real sockets (as squall run) and print both side by side; exit 1 when they disagree."
    )
    var compare = false

    func validate() throws {
        if let seed = self.seed, seed > 9_007_199_254_740_991 {
            throw ValidationError("--seed must be at most 2^53 - 1 (scenario seeds are JSON numbers)")
        }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        var scenarios: [Scenario] = []
        do {
            var failures: [String] = []
            for file in try ScenarioFiles.list(self.paths) {
                do {
                    let scenario = try ScenarioFiles.load(file, clientLimit: Scenario.maximumSimulatedClients)
                    do {
                        try SimulationRunner.check(scenario)
                        scenarios.append(self.seed.map { scenario.seeded($0) } ?? scenario)
                    } catch {
                        failures.append("\(file): \(error)")
                    }
                } catch {
                    failures.append("\(error)")
                }
            }
            guard failures.isEmpty else {
                for failure in failures { printError("squall sim: invalid \(failure)") }
                throw ExitStatus.usage
            }
        } catch let error as ScenarioError {
            printError("squall sim: \(error)")
            throw ExitStatus.usage
        }
        var records: [RunRecord] = []
        var comparisons: [ModeComparison] = []
        let session =
            self.compare
            ? ScenarioSession(output: self.output, quiet: self.quiet, command: "squall sim", signals: ShutdownSignal())
            : nil
        for scenario in scenarios {
            let real = try await session?.run(scenario).record
            if !self.quiet {
                print(
                    "▶ \(scenario.name): \(scenario.clientCount) clients, \(scenario.duration.squallText) of virtual time"
                        + (scenario.timeScale != 1 ? " (timeScale \(scenario.timeScale) ignored)" : "")
                )
            }
            let folder: String
            let record: RunRecord
            let started = ContinuousClock.now
            do {
                folder = try ReportWriter.createFolder(scenario: scenario.name, under: self.output)
                let log = (folder as NSString).appendingPathComponent("events.ndjson")
                record = try SimulationRunner(scenario: scenario, eventLogPath: log).run()
                if self.checkDeterminism {
                    try Self.checkDeterminism(scenario, against: log)
                }
                try ReportWriter.write(record, to: folder, includeEvents: false)
            } catch let error as ScenarioError {
                printError("squall sim: \(scenario.name): \(error)")
                throw ExitStatus.internalError
            }
            ScenarioSession.printVerdict(record, folder: folder)
            if !self.quiet {
                let wall = (ContinuousClock.now - started).components
                let seconds = Double(wall.seconds) + Double(wall.attoseconds) / 1e18
                print("    \(record.records.count) events in \(String(format: "%.2f", seconds)) s wall")
            }
            records.append(record)
            if let real {
                let comparison = ModeComparison(real: real, simulated: record)
                comparisons.append(comparison)
                print(comparison.table)
            }
        }
        if self.compare {
            let path = (self.output as NSString).appendingPathComponent("sim-compare.md")
            let text = comparisons.map(\.table).joined(separator: "\n")
            do {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                printError("squall sim: cannot write \(path): \(error)")
                throw ExitStatus.internalError
            }
            let differing = comparisons.filter { !$0.agrees }.map(\.scenario)
            print(
                differing.isEmpty
                    ? "real and simulated runs agree on every scenario (\(path))"
                    : "real and simulated runs differ on: \(differing.joined(separator: ", ")) (\(path))"
            )
            if !differing.isEmpty { throw ExitCode(1) }
        }
        do {
            try ReportWriter.writeCombinedJUnit(
                records,
                to: (self.output as NSString).appendingPathComponent("junit.xml")
            )
        } catch {
            printError("squall sim: \(error)")
            throw ExitStatus.internalError
        }
        let exit = ExitStatus.of(records.map(\.verdict))
        if exit != ExitStatus.success { throw exit }
    }

    /// Runs the scenario again into a scratch file and compares it with the first run's log, line by line.
    private static func checkDeterminism(_ scenario: Scenario, against first: String) throws {
        let second = NSTemporaryDirectory() + "squall-sim-\(UUID().uuidString).ndjson"
        defer { try? FileManager.default.removeItem(atPath: second) }
        _ = try SimulationRunner(scenario: scenario, eventLogPath: second).run()
        let one = (try? String(contentsOfFile: first, encoding: .utf8)) ?? ""
        let two = (try? String(contentsOfFile: second, encoding: .utf8)) ?? ""
        guard one != two else {
            print("    deterministic: a second run wrote the identical log (\(one.utf8.count) bytes)")
            return
        }
        let left = one.split(separator: "\n", omittingEmptySubsequences: false)
        let right = two.split(separator: "\n", omittingEmptySubsequences: false)
        let line =
            zip(left, right).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(left.count, right.count)
        printError(
            "squall sim: \(scenario.name): not deterministic: the logs of two runs differ first at line \(line + 1)"
        )
        printError("  first:  \(line < left.count ? String(left[line]) : "(end of log)")")
        printError("  second: \(line < right.count ? String(right[line]) : "(end of log)")")
        throw ExitStatus.internalError
    }
}
