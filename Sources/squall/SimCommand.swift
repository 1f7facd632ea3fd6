import ArgumentParser
import Foundation
import SquallFaults
import SquallReports
import SquallScenarios
import SquallSession
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
            free); the report says "mode": "sim". External servers and clients (their code runs only on real sockets) \
            are refused with their JSON paths (exit 64). Exit codes as squall run: 0 passed, 99 a \
            gate failed (never 75: virtual time waits for the harness), 64 invalid scenario or usage, 70 internal error (also: --check-determinism found two runs that differ); \
            with --compare, 1 when a real and a simulated run disagree.
            """
    )

    @OptionGroup var selection: ScenarioSelection

    @Flag(name: .long, help: "Run each scenario twice and fail (exit 70) naming the first line where the logs differ.")
    var checkDeterminism = false

    @Flag(
        name: .long,
        help:
            "Also run each scenario on real sockets (as squall run) and print both side by side; exit 1 when they disagree."
    )
    var compare = false

    @Option(
        name: .long,
        help: """
            The log as events.ndjson.gz (gzip) or events.ndjson (none); auto: gzip from \
            \(EventLogFile.compressionThreshold) clients. Every reader takes either.
            """
    )
    var logCompression: LogCompression = .auto

    func run() async throws {
        StandardOutput.useLineBuffering()
        let scenarios = try self.selection.loadScenarios(
            command: "squall sim",
            clientLimit: Scenario.maximumSimulatedClients,
            check: SimulationRunner.check
        )
        var records: [RunRecord] = []
        var comparisons: [ModeComparison] = []
        let session =
            self.compare
            ? ScenarioSession(
                output: self.selection.output,
                quiet: self.selection.quiet,
                command: "squall sim",
                signals: ShutdownSignal()
            )
            : nil
        var failing: [ScenarioSelection.FailingRun] = []
        runs: for (file, base) in scenarios {
            for seed in self.selection.seedsToRun {
                let scenario = seed.map { base.seeded($0) } ?? base
                let real: RunRecord?
                do throws(SessionFailure) {
                    real = try await session?.run(scenario).record
                } catch {
                    throw ExitStatus.reporting(error, command: "squall sim")
                }
                let (record, folder) = try self.simulate(scenario)
                records.append(record)
                if let real {
                    let comparison = ModeComparison(real: real, simulated: record)
                    comparisons.append(comparison)
                    print(comparison.table)
                }
                if record.verdict != .passed {
                    failing.append(
                        .init(
                            file: file,
                            name: scenario.name,
                            seed: scenario.seed,
                            folder: folder,
                            verdict: record.verdict
                        )
                    )
                    if self.selection.stopsAfter(record) { break runs }
                }
            }
        }
        if self.compare {
            let path = (self.selection.output as NSString).appendingPathComponent("sim-compare.md")
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
        do throws(SessionFailure) {
            try ScenarioSession.writeCombinedJUnit(records, output: self.selection.output)
        } catch {
            throw ExitStatus.reporting(error, command: "squall sim")
        }
        self.selection.printSeedSummary(failing, runs: records.count, command: "squall sim")
        let exit = ExitStatus.of(records.map(\.verdict))
        if exit != ExitStatus.success { throw exit }
    }

    /// Simulates one scenario into a new report folder, printing its verdict; returns the record and the folder.
    private func simulate(_ scenario: Scenario) throws -> (RunRecord, String) {
        if !self.selection.quiet {
            print(
                "▶ \(scenario.name): \(scenario.clientCount) clients, \(scenario.duration.squallText) of virtual time"
                    + (scenario.timeScale != 1 ? " (timeScale \(scenario.timeScale) ignored)" : "")
            )
        }
        let folder: String
        let record: RunRecord
        let started = ContinuousClock.now
        do {
            folder = try ReportWriter.createFolder(scenario: scenario.name, under: self.selection.output)
            let compressed = self.logCompression.compresses(clients: scenario.clientCount)
            let log = (folder as NSString).appendingPathComponent(EventLogFile.name(compressed: compressed))
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
        if !self.selection.quiet {
            let seconds = (ContinuousClock.now - started).milliseconds / 1_000
            let events = record.eventCount
            let rate = seconds > 0 ? Double(events) / seconds : 0
            let log =
                record.eventLogPath.map { path in
                    let megabytes = Double(record.eventLogSize ?? 0) / 1_048_576
                    return "; log \((path as NSString).lastPathComponent) \(String(format: "%.1f", megabytes)) MB"
                } ?? ""
            print(
                "    \(events) events in \(String(format: "%.2f", seconds)) s wall (\(Int(rate.rounded())) events/s), "
                    + "peak memory \(ProcessUsage.current().peakResidentMegabytes) MB\(log)"
            )
        }
        return (record, folder)
    }

    /// Runs the scenario again into a scratch file (compressed as the first) and compares the two logs line by line,
    /// a chunk at a time.
    private static func checkDeterminism(_ scenario: Scenario, against first: String) throws {
        let second = NSTemporaryDirectory() + "squall-sim-\(UUID().uuidString)-" + (first as NSString).lastPathComponent
        defer { try? FileManager.default.removeItem(atPath: second) }
        _ = try SimulationRunner(scenario: scenario, eventLogPath: second).run()
        let one = try LogLineReader(path: first)
        let two = try LogLineReader(path: second)
        var bytes = 0
        while true {
            let left = try one.nextLine()
            let right = try two.nextLine()
            if left == nil && right == nil { break }
            if let left, let right, left.line == right.line, left.terminated == right.terminated {
                bytes += left.line.count + 1
                continue
            }
            func text(_ line: (line: ArraySlice<UInt8>, terminated: Bool)?) -> String {
                line.map { String(decoding: $0.line, as: UTF8.self) } ?? "(end of log)"
            }
            printError(
                "squall sim: \(scenario.name): not deterministic: the logs of two runs differ first at line "
                    + "\(max(one.lineNumber, two.lineNumber))"
            )
            printError("  first:  \(text(left))")
            printError("  second: \(text(right))")
            throw ExitStatus.internalError
        }
        print("    deterministic: a second run wrote the identical log (\(bytes) bytes of NDJSON)")
    }
}
