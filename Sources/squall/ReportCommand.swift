import ArgumentParser
import Foundation
import SquallReports
import SquallScenarios
import SquallSession

/// `squall report`: re-renders run folders (report.json, junit.xml, summary.md, report.html) from their
/// `events.ndjson`, e.g. after an upgrade of Squall's report pages or on a log copied from CI.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Re-render report folders from their events.ndjson.",
        discussion: """
            PATH may be a run folder, its events.ndjson or report.json, or any folder above run folders \
            (reports/ re-renders every run under it). The event log itself is never rewritten. Exit 0 when every \
            folder was re-rendered, 64 when a path holds no run or a log is invalid (the line is named).
            """
    )

    @Argument(help: "Run folders, their files, or folders above them (default: reports/).")
    var paths: [String] = ["reports"]

    @Flag(name: .long, help: "Also print each run's Markdown summary.")
    var summary = false

    func run() throws {
        var failures = 0
        for path in self.paths {
            let folders: [String]
            do {
                folders = try RunFiles.runFolders(under: path)
            } catch {
                printError("squall report: \(error)")
                failures += 1
                continue
            }
            for folder in folders {
                do {
                    // `runFolders` lists only folders that hold a log.
                    guard let log = EventLogFile.find(in: folder) else { continue }
                    let record = try RunFiles.record(events: log)
                    try ReportWriter.write(record, to: folder, includeEvents: false)
                    ScenarioSession.printVerdict(record, folder: folder)
                    if self.summary { print(ReportWriter.summary(record)) }
                } catch {
                    printError("squall report: \(error)")
                    failures += 1
                }
            }
        }
        if failures > 0 { throw ExitStatus.usage }
    }
}
