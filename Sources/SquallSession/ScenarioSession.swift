import Foundation
import SquallFaults
import SquallReports
import SquallScenarios

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs scenarios one after another the way `squall run`, `squall sim` (its report side) and `squall replay
/// --rerun` share: a live progress line, one signal waiter that interrupts the scenario in progress, each run's
/// report folder written, every scenario's outcome collected — a scenario refused for its descriptors is an
/// outcome (inconclusive), never the end of the session — and the combined `junit.xml` written at the end.
package struct ScenarioSession {
    /// Where report folders go.
    package let output: String
    /// Print only verdicts.
    package let quiet: Bool
    /// The command's name, for lines on standard error (`squall run`).
    package let command: String
    /// `--shard`: run only this shard's clients.
    package var shard: Shard?
    /// `--start-at`: the shared start, ms since the epoch.
    package var startAt: Double?
    /// `--clock-offset`: this runner's clock minus the reference clock, ms.
    package var clockOffset: Double = 0
    private let terminal = isatty(STDOUT_FILENO) == 1
    private let interruption: Task<Int32?, Never>

    /// Starts catching SIGINT/SIGTERM for the session.
    package init(output: String, quiet: Bool, command: String, signals: ShutdownSignal) {
        self.output = output
        self.quiet = quiet
        self.command = command
        self.interruption = Task { await signals.wait() }
    }

    /// Every scenario of `scenarios` with every seed of `seeds` (nil: the scenario's own), in order; stops after an
    /// interrupted run, and after the first failed one when `stopAtFailure`. Writes the combined `junit.xml` (with
    /// a refused scenario's own case) whatever happened.
    ///
    /// - Throws: ``SessionFailure`` (internal error) when a part cannot start or a report cannot be written.
    package func runAll(
        _ scenarios: [(file: String, scenario: Scenario)],
        seeds: [UInt64?] = [nil],
        stopAtFailure: Bool = false
    ) async throws(SessionFailure) -> SessionResults {
        var results = SessionResults()
        do {
            try await self.run(scenarios, seeds: seeds, stopAtFailure: stopAtFailure, into: &results)
        } catch {
            // The combined report of what did run, even when a later scenario could not.
            try? Self.writeCombinedJUnit(results.outcomes, output: self.output)
            throw error
        }
        try Self.writeCombinedJUnit(results.outcomes, output: self.output)
        return results
    }

    private func run(
        _ scenarios: [(file: String, scenario: Scenario)],
        seeds: [UInt64?],
        stopAtFailure: Bool,
        into results: inout SessionResults
    ) async throws(SessionFailure) {
        runs: for (file, scenario) in scenarios {
            for seed in seeds {
                let outcome = try await self.run(seed.map { scenario.seeded($0) } ?? scenario)
                results.outcomes.append(outcome)
                guard case .ran(let record, let folder) = outcome else { continue }
                if record.interrupted { break runs }
                if record.verdict != .passed {
                    results.failing.append(
                        SessionResults.FailingRun(
                            file: file,
                            name: scenario.name,
                            seed: seed ?? scenario.seed,
                            folder: folder,
                            verdict: record.verdict
                        )
                    )
                    if record.verdict == .failed && stopAtFailure { break runs }
                }
            }
        }
    }

    /// Runs one scenario and writes its report folder; a scenario this process cannot hold is refused before
    /// anything starts (and prints why).
    ///
    /// - Throws: ``SessionFailure`` (internal error) when a part cannot start or the report cannot be written.
    package func run(_ scenario: Scenario) async throws(SessionFailure) -> ScenarioOutcome {
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
            FileHandle.standardError.write(Data("\(self.command): \(scenario.name): \(error)\n".utf8))
            print("? \(scenario.name): INCONCLUSIVE, not run (this process cannot hold it)")
            return .refused(scenario: scenario.name, reason: "\(error)")
        }
        let folder: String
        do {
            folder = try ReportWriter.createFolder(scenario: scenario.name, under: self.output)
        } catch {
            throw SessionFailure(.internalError, "\(error)")
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
        case .failure(let error): throw SessionFailure(.internalError, "\(scenario.name): \(error)")
        }
        do {
            try ReportWriter.write(record, to: folder, includeEvents: false)
        } catch {
            throw SessionFailure(.internalError, "\(error)")
        }
        Self.printVerdict(record, folder: folder)
        return .ran(record, folder: folder)
    }

    /// Prints a run's verdict line, every gate that did not pass with its note, faults that were never injected
    /// and, when it matters, the harness's health.
    package static func printVerdict(_ record: RunRecord, folder: String) {
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

    /// Writes `output/junit.xml` combining the runs of `outcomes` and a case for each refused scenario.
    ///
    /// - Throws: ``SessionFailure`` (internal error) when it cannot be written.
    package static func writeCombinedJUnit(_ outcomes: [ScenarioOutcome], output: String) throws(SessionFailure) {
        var refused: [(scenario: String, reason: String)] = []
        for case .refused(let scenario, let reason) in outcomes { refused.append((scenario, reason)) }
        try Self.writeCombinedJUnit(outcomes.compactMap(\.record), refused: refused, output: output)
    }

    /// Writes `output/junit.xml` combining `records` (runs that were not refused) and the `refused` scenarios.
    ///
    /// - Throws: ``SessionFailure`` (internal error) when it cannot be written.
    package static func writeCombinedJUnit(
        _ records: [RunRecord],
        refused: [(scenario: String, reason: String)] = [],
        output: String
    ) throws(SessionFailure) {
        do {
            try ReportWriter.writeCombinedJUnit(
                records,
                refused: refused,
                to: (output as NSString).appendingPathComponent("junit.xml")
            )
        } catch {
            throw SessionFailure(.internalError, "\(error)")
        }
    }
}
