import Foundation
import SquallFaults
import SquallReports
import SquallScenarios

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs scenarios one after another the way `squall run` and `squall replay --rerun` share: a live progress line,
/// one signal waiter that interrupts the scenario in progress, and each run's report folder written.
struct ScenarioSession {
    /// Where report folders go.
    let output: String
    /// Print only verdicts.
    let quiet: Bool
    /// The command's name, for error lines.
    let command: String
    /// `--shard`: run only this shard's clients.
    var shard: Shard?
    /// `--start-at`: the shared start, ms since the epoch.
    var startAt: Double?
    /// `--clock-offset`: this runner's clock minus the reference clock, ms.
    var clockOffset: Double = 0
    private let terminal = isatty(STDOUT_FILENO) == 1
    private let interruption: Task<Int32?, Never>

    /// Starts catching SIGINT/SIGTERM for the session.
    init(output: String, quiet: Bool, command: String, signals: ShutdownSignal) {
        self.output = output
        self.quiet = quiet
        self.command = command
        self.interruption = Task { await signals.wait() }
    }

    /// Runs one scenario and writes its report folder.
    ///
    /// - Returns: the record and the folder it was written to.
    /// - Throws: ``ExitStatus/internalError`` (after printing why) when a part cannot start or the report cannot
    ///   be written.
    func run(_ scenario: Scenario) async throws -> (record: RunRecord, folder: String) {
        if !self.quiet {
            print(
                "▶ \(scenario.name): \(scenario.clientCount) clients, \(scenario.duration.squallText) at timeScale \(scenario.timeScale)"
            )
        }
        let quiet = self.quiet
        let terminal = self.terminal
        let progress: @Sendable (RunProgress) -> Void = { snapshot in
            guard !quiet else { return }
            if terminal {
                FileHandle.standardOutput.write(Data(("\r\u{1B}[2K  " + snapshot.line).utf8))
            } else if Int(snapshot.elapsed.components.seconds) % 5 == 0 {
                print("  " + snapshot.line)
            }
        }
        do {
            // Before the report folder exists: a run this process cannot hold leaves nothing behind.
            try ScenarioRunner.checkCapacity(for: scenario, shard: self.shard)
        } catch {
            printError("\(self.command): \(scenario.name): \(error)")
            throw ExitStatus.inconclusive
        }
        let folder: String
        do {
            folder = try ReportWriter.createFolder(scenario: scenario.name, under: self.output)
        } catch {
            printError("\(self.command): \(error)")
            throw ExitStatus.internalError
        }
        var runner = ScenarioRunner(
            scenario: scenario,
            eventLogPath: (folder as NSString).appendingPathComponent("events.ndjson"),
            progress: progress
        )
        runner.shard = self.shard
        runner.startAt = self.startAt
        runner.clockOffset = self.clockOffset
        let running = Task { () async -> Result<RunRecord, ScenarioError> in
            do throws(ScenarioError) {
                return .success(try await runner.run())
            } catch {
                return .failure(error)
            }
        }
        // The one signal waiter serves every scenario; a watcher per run cancels that run when it fires.
        let interruption = self.interruption
        let watcher = Task {
            guard let signal = await interruption.value, !Task.isCancelled else { return }
            print("\nsignal \(signal): healing faults, stopping clients, writing the partial report")
            running.cancel()
        }
        let outcome = await running.value
        watcher.cancel()
        if terminal && !quiet { print("") }
        let record: RunRecord
        switch outcome {
        case .success(let finished): record = finished
        case .failure(let error):
            printError("\(self.command): \(scenario.name): \(error)")
            throw ExitStatus.internalError
        }
        do {
            try ReportWriter.write(record, to: folder, includeEvents: false)
        } catch {
            printError("\(self.command): \(error)")
            throw ExitStatus.internalError
        }
        Self.printVerdict(record, folder: folder)
        return (record, folder)
    }

    /// Prints a run's verdict line, its failed gates, faults that were never injected and, when it matters, the
    /// harness's health.
    static func printVerdict(_ record: RunRecord, folder: String) {
        let verdict = record.verdict
        let failed = record.gates.filter { !$0.passed }
        let mark = verdict == .passed ? "✔" : (verdict == .inconclusive ? "?" : "✘")
        print(
            "\(mark) \(record.scenario.name): \(verdict.label) (\(record.gates.count - failed.count)/\(record.gates.count) gates) → \(folder)"
        )
        for result in record.gates where result.verdict != .passed {
            print("    \(result.summary)")
            if let note = GateNote.text(result, in: record) { print("      \(note)") }
        }
        if !record.metrics.faultsNotInjected.isEmpty {
            print("    never injected: \(record.metrics.faultsNotInjected.joined(separator: ", "))")
        }
        if verdict == .inconclusive {
            print("    no verdict on the app: the harness was overloaded (\(record.harness.summary))")
            print("    to get a verdict: \(record.harness.advice)")
        } else if record.harness.overloaded {
            print("    harness: \(record.harness.summary)")
        }
    }

    /// Writes the combined `junit.xml` of the session's runs.
    func writeCombinedJUnit(_ records: [RunRecord]) throws {
        try Self.writeCombinedJUnit(records, output: self.output, command: self.command)
    }

    /// Writes `output/junit.xml` combining `records`; on failure prints why, prefixed with `command`.
    static func writeCombinedJUnit(_ records: [RunRecord], output: String, command: String) throws {
        do {
            try ReportWriter.writeCombinedJUnit(records, to: (output as NSString).appendingPathComponent("junit.xml"))
        } catch {
            printError("\(command): \(error)")
            throw ExitStatus.internalError
        }
    }
}
