import Foundation
import NIOCore
import SquallScenarios

/// `squall run --shards N` on one machine: one `squall run --shard i/N` child process per shard, all starting at
/// the same second, then their logs merged into one run — the whole sharded path, run locally (and useful on a
/// machine with many cores).
package struct ShardedRun {
    /// How many shards.
    package let count: Int
    /// Where the merged report goes; the shards' own folders go under `<output>/shards/<scenario>/<start>/`.
    package let output: String
    /// Print only verdicts.
    package let quiet: Bool
    /// The `squall` binary the shards run.
    package let executable: String
    /// Print the merged verdict (a benchmark prints its own line per trial instead).
    package var printsVerdict = true

    /// A sharded run of `count` shards of `executable`.
    package init(count: Int, output: String, quiet: Bool, executable: String, printsVerdict: Bool = true) {
        self.count = count
        self.output = output
        self.quiet = quiet
        self.executable = executable
        self.printsVerdict = printsVerdict
    }

    /// Runs `file`'s scenario as `count` shards and merges them; returns the merged record.
    ///
    /// `signals` stops every shard on SIGINT or SIGTERM; without it (a benchmark's trials), a signal reaches the
    /// shards directly, as they share the terminal's process group.
    ///
    /// - Throws: ``SessionFailure`` (internal error) when a shard cannot start, leaves no log, or the shards do not
    ///   make one run.
    package func run(
        file: String,
        scenario: Scenario,
        seed: UInt64?,
        signals: ShutdownSignal?
    ) async throws(SessionFailure) -> RunRecord {
        // Two seconds for every child to start and read its scenario before the shared start.
        let start = Int(Date().timeIntervalSince1970) + 2
        let base = (self.output as NSString).appendingPathComponent("shards/\(scenario.name)/\(start)")
        if !self.quiet {
            print("▶ \(scenario.name): \(scenario.clientCount) clients in \(self.count) shards, starting at \(start)")
        }
        // Each shard's event loops share this machine's cores with the other shards': a loop per core in every shard
        // would only make the loops take turns. Unless the user set it, each shard gets its share of the cores.
        let loopCount = "NIO_SINGLETON_GROUP_LOOP_COUNT"
        let environment =
            ProcessInfo.processInfo.environment[loopCount] == nil
            ? [loopCount: String(max(1, System.coreCount / self.count))] : [:]
        var children: [ChildProcess] = []
        do {
            for index in 0..<self.count {
                var arguments = [
                    self.executable, "run", file, "--shard", "\(index)/\(self.count)", "--start-at", "\(start)",
                    "--output", (base as NSString).appendingPathComponent("\(index)"), "--quiet",
                ]
                if let seed { arguments += ["--seed", "\(seed)"] }
                children.append(
                    try await ChildProcess.start(
                        arguments: arguments,
                        environment: environment,
                        part: "shard \(index)",
                        grace: .seconds(10)
                    )
                )
            }
        } catch {
            for child in children { await child.stop() }
            throw SessionFailure(.internalError, "\(error)")
        }
        // A signal stops every shard (each heals its faults and writes its partial report on SIGTERM).
        let watcher = Task {
            guard let signals, await signals.wait() != nil, !Task.isCancelled else { return }
            for child in children { await child.stop() }
        }
        defer { watcher.cancel() }
        var logs: [[String]] = []
        for (index, child) in children.enumerated() {
            let ended = await child.waitForExit()
            let (output, errors) = await child.output()
            if !self.quiet { print(output.split(separator: "\n").map { "  [\(index)] \($0)" }.joined(separator: "\n")) }
            let folder = (base as NSString).appendingPathComponent("\(index)/\(scenario.name)")
            guard let run = try? FileManager.default.contentsOfDirectory(atPath: folder).sorted().last,
                let log = EventLogFile.find(in: folder + "/" + run),
                let lines = try? LogLineReader.lines(of: log)
            else {
                throw SessionFailure(
                    .internalError,
                    "shard \(index) left no log (\(ended.map { "\($0)" } ?? "still running")): \(errors)"
                )
            }
            logs.append(lines.filter { !$0.isEmpty })
        }
        // Shards this run started itself that do not make one run are its own fault, not the user's input.
        let (record, folder) = try MergedRun.write(logs, output: self.output, mismatched: .internalError)
        if self.printsVerdict { ScenarioSession.printVerdict(record, folder: folder) }
        return record
    }
}
