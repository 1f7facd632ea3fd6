import ArgumentParser
import Foundation
import SquallFaults
import SquallReports
import SquallScenarios
import SquallSession

/// `squall replay`: re-checks a stored event log (metrics and gates recomputed, deterministically) or re-runs a
/// recorded scenario with the same seed and planned timeline and says where the outcome differs.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-check a stored event log, or re-run a recorded scenario and compare the outcomes.",
        discussion: """
            --recheck recomputes every metric and gate from events.ndjson alone and, when report.json lies beside \
            it, says whether it reproduces it byte for byte (it does unless the log or Squall's checkers changed). \
            --rerun plays the scenario copied into report.json again, with the same seed and planned timeline \
            (the plan digest is compared), writes a new report folder with rerun.json, and lists the differences: \
            gate verdicts, outcome metrics (fallback, completion, lost, duplicate, unexpected, faults) exactly, \
            behaviour metrics (latency, recovery, reconnects, polls) beyond --tolerance, and each client's outcome \
            when the recorded events.ndjson is present. Either accepts a run folder or one of its files. Exit \
            codes as for run: 0 gates passed, 99 a gate failed (or, with --strict, the outcome differs from the \
            recording), 75 inconclusive (as for run, or the re-run does not fit in this process's descriptors), 64 \
            unreadable or invalid input, 70 internal error, 130 interrupted.
            """
    )

    @Option(
        name: .long,
        help: ArgumentHelp("A stored events.ndjson (or its run folder) to re-check.", valueName: "path")
    )
    var recheck: String?

    @Option(name: .long, help: ArgumentHelp("A recorded report.json (or its run folder) to re-run.", valueName: "path"))
    var rerun: String?

    @Option(name: .long, help: "Where the re-run's report folder goes.")
    var output: String = "reports"

    @Option(
        name: .long,
        help: "How far a behaviour metric may move (fraction of the larger value) before it is listed."
    )
    var tolerance: Double = 0.5

    @Flag(name: .long, help: "Exit 99 when the re-run's outcome differs from the recording, even if its gates pass.")
    var strict = false

    @Flag(name: .long, help: "Print only verdicts and the number of differences.")
    var quiet = false

    func validate() throws {
        guard (self.recheck == nil) != (self.rerun == nil) else {
            throw ValidationError("Give exactly one of --recheck <events.ndjson> or --rerun <report.json>.")
        }
        guard self.tolerance >= 0 else {
            throw ValidationError("--tolerance must be ≥ 0 (a fraction such as 0.5), found \(self.tolerance).")
        }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        if let path = self.recheck {
            try self.recheck(path)
        } else if let path = self.rerun {
            try await self.rerun(path)
        }
    }

    private func recheck(_ path: String) throws {
        let files: RunFiles
        let record: RunRecord
        do {
            files = try RunFiles(locating: path)
            guard let events = files.events else {
                throw ScenarioError.unreadable(
                    path: path,
                    reason: "no events.ndjson: only a stored event log can be re-checked"
                )
            }
            record = try RunFiles.record(events: events)
        } catch {
            printError("squall replay: \(error)")
            throw ExitStatus.usage
        }
        ScenarioSession.printVerdict(record, folder: files.events ?? path)
        if let reportPath = files.report {
            let stored = FileManager.default.contents(atPath: reportPath).map { String(decoding: $0, as: UTF8.self) }
            if stored == ReportWriter.reportJSON(record) {
                print("identical: the recomputed report reproduces \(reportPath) byte for byte")
            } else {
                do {
                    let comparison = RunComparison(
                        recordedReport: try RunFiles.report(reportPath),
                        recordedClients: nil,
                        rerun: record,
                        tolerance: 0
                    )
                    print("DIFFERENT from \(reportPath) (\(comparison.differences.count) differences):")
                    self.printDifferences(comparison)
                } catch {
                    printError("squall replay: \(error)")
                }
            }
        }
        if record.interrupted {
            let ending = record.complete ? "interrupted (\(record.endReason))" : "incomplete: \(record.endReason)"
            print("\(ending); the verdict of the gates on the partial log: \(record.verdictOfGates.label)")
        }
        let exit = ExitStatus.of(record.verdictOfGates)
        if exit != ExitStatus.success { throw exit }
    }

    private func rerun(_ path: String) async throws {
        let signals = ShutdownSignal()
        let files: RunFiles
        let recordedReport: JSONValue
        let recordedClients: [ClientOutcome]?
        let scenario: Scenario
        do {
            files = try RunFiles(locating: path)
            let recordedRun = try files.events.map { events throws(ScenarioError) in try RunFiles.record(events: events)
            }
            recordedClients = recordedRun?.metrics.clients
            if let report = files.report {
                recordedReport = try RunFiles.report(report)
            } else if let recordedRun {
                recordedReport = ReportWriter.reportDocument(recordedRun)
            } else {
                throw ScenarioError.unreadable(path: path, reason: "neither report.json nor events.ndjson")
            }
            guard let source = recordedReport["scenario"] else {
                throw ScenarioError.invalidRecord(
                    path: files.report ?? path,
                    reason: "no \"scenario\" member to re-run"
                )
            }
            do {
                scenario = try Scenario(json: source)
            } catch {
                throw ScenarioError.invalid(file: "\(files.report ?? path) (member \"scenario\")", error)
            }
        } catch {
            printError("squall replay: \(error)")
            throw ExitStatus.usage
        }
        let recordedName = files.report ?? files.events ?? path
        let plan: PlannedTimeline
        do {
            plan = try PlannedTimeline(scenario)
        } catch {
            printError("squall replay: \(recordedName) (member \"scenario\"): \(error)")
            throw ExitStatus.usage
        }
        let recordedPlan = recordedReport["planDigest"]?.stringValue ?? "none"
        if !self.quiet {
            print(
                "re-running \(scenario.name) from \(recordedName): seed \(scenario.seed), plan \(plan.digest) (recorded \(recordedPlan)\(plan.digest == recordedPlan ? ", identical" : ", DIFFERENT"))"
            )
        }
        let session = ScenarioSession(
            output: self.output,
            quiet: self.quiet,
            command: "squall replay",
            signals: signals
        )
        let outcome: ScenarioOutcome
        do throws(SessionFailure) {
            outcome = try await session.run(scenario)
        } catch {
            throw ExitStatus.reporting(error, command: "squall replay")
        }
        guard case .ran(let record, let folder) = outcome else { throw ExitStatus.inconclusive }
        let comparison = RunComparison(
            recordedReport: recordedReport,
            recordedClients: recordedClients,
            rerun: record,
            tolerance: self.tolerance
        )
        do {
            let text = comparison.json(recordedPath: recordedName).prettyText + "\n"
            try Data(text.utf8).write(
                to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("rerun.json"))
            )
        } catch {
            printError("squall replay: could not write rerun.json: \(error.localizedDescription)")
            throw ExitStatus.internalError
        }
        if comparison.differences.isEmpty {
            print("same outcome as \(recordedName)")
        } else {
            let verdict = comparison.outcomeDiffers ? "OUTCOME DIFFERS" : "same outcome, behaviour moved"
            print("\(verdict) from \(recordedName) (\(comparison.differences.count) differences, rerun.json):")
            self.printDifferences(comparison)
        }
        if !record.passed { throw ExitStatus.of(record.verdict) }
        if self.strict && comparison.outcomeDiffers { throw ExitStatus.gateFailed }
    }

    private func printDifferences(_ comparison: RunComparison) {
        guard !self.quiet else { return }
        let shown = 30
        for difference in comparison.differences.prefix(shown) {
            print("    [\(difference.kind.rawValue)] \(difference.line)")
        }
        if comparison.differences.count > shown {
            print("    … and \(comparison.differences.count - shown) more in rerun.json")
        }
    }
}
