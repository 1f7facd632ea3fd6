import ArgumentParser
import Foundation
import SquallReports
import SquallScenarios

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
            are healed, clients stopped, and the partial report is written).
            """
    )

    @Argument(help: "Scenario files or folders (default: scenarios/).")
    var paths: [String] = ["scenarios"]

    @Option(name: .long, help: "Where reports go.")
    var output: String = "reports"

    @Flag(name: .long, help: "Print only each scenario's verdict.")
    var quiet = false

    func run() async throws {
        StandardOutput.useLineBuffering()
        let signals = ShutdownSignal()
        let scenarios: [Scenario]
        do {
            let files = try ScenarioFiles.list(self.paths)
            var loaded: [Scenario] = []
            var failures: [String] = []
            for file in files {
                do {
                    loaded.append(try ScenarioFiles.load(file))
                } catch {
                    failures.append("\(error)")
                }
            }
            guard failures.isEmpty else {
                failures.forEach { printError("squall run: invalid \($0)") }
                throw ExitStatus.usage
            }
            scenarios = loaded
        } catch let error as ScenarioError {
            printError("squall run: \(error)")
            throw ExitStatus.usage
        }
        let terminal = isatty(STDOUT_FILENO) == 1
        let interruption = Task { await signals.wait() }
        var records: [RunRecord] = []
        var interrupted = false
        for scenario in scenarios {
            if !self.quiet {
                print("▶ \(scenario.name): \(scenario.clientCount) clients, \(scenario.duration.squallText) at timeScale \(scenario.timeScale)")
            }
            let quiet = self.quiet
            let progress: @Sendable (RunProgress) -> Void = { snapshot in
                guard !quiet else { return }
                if terminal {
                    FileHandle.standardOutput.write(Data(("\r\u{1B}[2K  " + snapshot.line).utf8))
                } else if Int(snapshot.elapsed.components.seconds) % 5 == 0 {
                    print("  " + snapshot.line)
                }
            }
            let runner = ScenarioRunner(scenario: scenario, progress: progress)
            // One signal waiter serves every scenario; a watcher per run cancels that run when it fires.
            let running = Task { () async -> Result<RunRecord, ScenarioError> in
                do throws(ScenarioError) {
                    return .success(try await runner.run())
                } catch {
                    return .failure(error)
                }
            }
            let watcher = Task {
                guard let signal = await interruption.value, !Task.isCancelled else { return }
                print("\nsignal \(signal): healing faults, stopping clients, writing the partial report")
                running.cancel()
            }
            let outcome = await running.value
            watcher.cancel()
            if terminal && !self.quiet { print("") }
            let record: RunRecord
            switch outcome {
            case .success(let finished): record = finished
            case .failure(let error):
                printError("squall run: \(scenario.name): \(error)")
                throw ExitStatus.internalError
            }
            let folder = ReportWriter.folder(for: record, under: self.output)
            do {
                try ReportWriter.write(record, to: folder)
            } catch {
                printError("squall run: \(error)")
                throw ExitStatus.internalError
            }
            records.append(record)
            let verdict = record.passed ? "passed" : (record.interrupted ? "INTERRUPTED" : "FAILED")
            let failed = record.gates.filter { !$0.passed }
            print("\(record.passed ? "✔" : "✘") \(scenario.name): \(verdict) (\(record.gates.count - failed.count)/\(record.gates.count) gates) → \(folder)")
            for result in failed {
                print("    \(result.summary)")
            }
            if !record.metrics.faultsNotInjected.isEmpty {
                print("    never injected: \(record.metrics.faultsNotInjected.joined(separator: ", "))")
            }
            if record.interrupted {
                interrupted = true
                break
            }
        }
        do {
            try ReportWriter.writeCombinedJUnit(records, to: (self.output as NSString).appendingPathComponent("junit.xml"))
        } catch {
            printError("squall run: \(error)")
            throw ExitStatus.internalError
        }
        if interrupted { throw ExitStatus.interrupted }
        if records.contains(where: { !$0.passed }) { throw ExitStatus.gateFailed }
    }
}
