import ArgumentParser
import Foundation
import SquallReports
import SquallScenarios
import SquallSession

/// `squall merge`: joins the logs of a scenario's shards (`squall run --shard i/N`) into one run and writes its
/// report folder, with one verdict.
struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the report folders of a scenario's shards into one run with one verdict.",
        discussion: """
            Each PATH is a shard's run folder (or its events.ndjson), or the folder `squall run --shard i/N --output \
            DIR` wrote: then the newest run of every scenario under it is taken, and each scenario is merged on its \
            own (a combined junit.xml beside them). The shards must belong together — the same \
            scenario and plan digests, seed and Squall version, every index 0..N-1 exactly once — or squall merge \
            exits 65 saying what is wrong. The merged events.ndjson (each shard's times moved by its clockOffsetMs, \
            the timeline once with the connections hit or cut summed) and the usual report files go to \
            <output>/<scenario>/<UTC time>/. Exit codes: 0 passed, 99 a gate failed, 75 inconclusive, 65 the shards do \
            not make one run, 64 unreadable input or usage, 70 internal error (a report could not be written); \
            with several scenarios the most serious.
            """
    )

    @Argument(
        help: "The shards' run folders, events.ndjson files, or the folders `squall run --shard … --output` wrote."
    )
    var paths: [String]

    @Option(name: .long, help: "Where the merged report goes.")
    var output: String = "reports"

    func run() async throws {
        let groups: [(scenario: String, files: [String])]
        do {
            groups = try Self.shardLogs(self.paths)
        } catch {
            printError("squall merge: \(error)")
            throw ExitStatus.usage
        }
        var records: [RunRecord] = []
        for group in groups {
            var logs: [[String]] = []
            for file in group.files {
                do throws(ScenarioError) {
                    logs.append(try LogLineReader.lines(of: file).filter { !$0.isEmpty })
                } catch {
                    printError("squall merge: cannot read \(file): \(error)")
                    throw ExitStatus.usage
                }
            }
            do throws(SessionFailure) {
                let (record, folder) = try MergedRun.write(logs, output: self.output)
                print("merged \(logs.count) shards: \(record.metrics.clients.count) clients")
                ScenarioSession.printVerdict(record, folder: folder)
                records.append(record)
            } catch {
                throw ExitStatus.reporting(error, command: "squall merge")
            }
        }
        if records.count > 1 {
            do throws(SessionFailure) {
                try ScenarioSession.writeCombinedJUnit(records, output: self.output)
            } catch {
                throw ExitStatus.reporting(error, command: "squall merge")
            }
        }
        let exit = ExitStatus.of(records.map(\.verdict))
        if exit != ExitStatus.success { throw exit }
    }

    /// The shard logs to merge, by scenario: each path is a run folder, an `events.ndjson`, or a folder `squall run
    /// --output` wrote (the newest run of each scenario under it is taken). A scenario must have a run under every
    /// path.
    ///
    /// - Throws: ``ScenarioError/unreadable(path:reason:)`` naming the path without a run (of a scenario).
    static func shardLogs(_ paths: [String]) throws(ScenarioError) -> [(scenario: String, files: [String])] {
        var perPath: [[String: String]] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .unreadable(path: path, reason: "no such file or folder")
            }
            if !isDirectory.boolValue {
                perPath.append(["": path])
                continue
            }
            if let direct = EventLogFile.find(in: path) {
                perPath.append(["": direct])
                continue
            }
            // A run folder is <output>/<scenario>/<UTC time>/: the newest per scenario.
            var newest: [String: String] = [:]
            for folder in try RunFiles.runFolders(under: path) {
                let scenario = ((folder as NSString).deletingLastPathComponent as NSString).lastPathComponent
                newest[scenario] = max(newest[scenario] ?? "", folder)
            }
            perPath.append(newest.compactMapValues { EventLogFile.find(in: $0) })
        }
        // Paths naming one run each merge as they are; otherwise scenario by scenario.
        if perPath.allSatisfy({ $0.count == 1 }) && perPath.contains(where: { $0[""] != nil })
            || Set(perPath.flatMap(\.keys)).count <= 1
        {
            return [("", perPath.map { $0.values.first! })]
        }
        let scenarios = Set(perPath.flatMap(\.keys)).sorted()
        return try scenarios.map { scenario throws(ScenarioError) in
            var files: [String] = []
            for (index, runs) in perPath.enumerated() {
                guard let file = runs[scenario] else {
                    throw .unreadable(path: paths[index], reason: "no run of scenario \(scenario) under it")
                }
                files.append(file)
            }
            return (scenario, files)
        }
    }
}
