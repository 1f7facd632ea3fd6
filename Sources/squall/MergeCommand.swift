import ArgumentParser
import Foundation
import SquallReports
import SquallScenarios

/// `squall merge`: joins the logs of a scenario's shards (`squall run --shard i/N`) into one run and writes its
/// report folder, with one verdict.
struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the report folders of a scenario's shards into one run with one verdict.",
        discussion: """
            Each PATH is a shard's run folder (or its events.ndjson). The shards must belong together — the same \
            scenario and plan digests, seed and Squall version, every index 0..N-1 exactly once — or squall merge \
            exits 65 saying what is wrong. The merged events.ndjson (each shard's times moved by its clockOffsetMs, \
            the timeline once with the connections hit or cut summed) and the usual report files go to \
            <output>/<scenario>/<UTC time>/. Exit 0 passed, 99 a gate failed, 75 inconclusive, 64 unreadable input.
            """
    )

    @Argument(help: "The shards' run folders or events.ndjson files.")
    var paths: [String]

    @Option(name: .long, help: "Where the merged report goes.")
    var output: String = "reports"

    func run() async throws {
        var logs: [[String]] = []
        for path in self.paths {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let file = isDirectory.boolValue ? (path as NSString).appendingPathComponent("events.ndjson") : path
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                printError("squall merge: cannot read \(file)")
                throw ExitStatus.usage
            }
            logs.append(text.split(separator: "\n").map(String.init))
        }
        let record = try Self.writeMerged(logs, output: self.output, command: "squall merge") {
            print("merged \(logs.count) shards: \($0.metrics.clients.count) clients")
        }
        let exit = ExitStatus.of([record.verdict])
        if exit != ExitStatus.success { throw exit }
    }

    /// Merges shard logs into one run, writes its report folder under `output` and prints its verdict (after
    /// `announce`); a failure is printed after `command` and thrown as its exit status: `mismatched` when the logs
    /// do not make one run, internal error when the report cannot be written.
    static func writeMerged(
        _ logs: [[String]],
        output: String,
        command: String,
        mismatched: ExitCode = ExitStatus.shardsMismatched,
        printsVerdict: Bool = true,
        announce: (RunRecord) -> Void = { _ in }
    ) throws -> RunRecord {
        let merged: [String]
        do {
            merged = try ShardMerge.merge(logs)
        } catch {
            printError("\(command): \(error)")
            throw mismatched
        }
        let record: RunRecord
        let folder: String
        do {
            record = try RunRecord(lines: merged)
            folder = try ReportWriter.createFolder(scenario: record.scenario.name, under: output)
            try ReportWriter.write(record, to: folder)
        } catch {
            printError("\(command): \(error)")
            throw ExitStatus.internalError
        }
        announce(record)
        if printsVerdict { ScenarioSession.printVerdict(record, folder: folder) }
        return record
    }
}
