import Foundation
import NIOCore
import SquallScenarios

/// `squall run --shards N` on one machine: one `squall run --shard i/N` child process per shard, all starting at
/// the same second, then their logs merged into one run — the whole sharded path, run locally (and useful on a
/// machine with many cores).
struct ShardedRun {
    /// How many shards.
    let count: Int
    /// Where the merged report goes; the shards' own folders go under `<output>/shards/<scenario>/<start>/`.
    let output: String
    /// Print only verdicts.
    let quiet: Bool
    /// Print the merged verdict (a benchmark prints its own line per trial instead).
    var printsVerdict = true

    /// Runs `file`'s scenario as `count` shards and merges them; returns the merged record.
    ///
    /// `signals` stops every shard on SIGINT or SIGTERM; without it (a benchmark's trials), a signal reaches the
    /// shards directly, as they share the terminal's process group.
    func run(
        file: String,
        scenario: Scenario,
        seed: UInt64?,
        signals: ShutdownSignal?
    ) async throws -> RunRecord {
        let executable = OwnExecutable.path
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
                    executable, "run", file, "--shard", "\(index)/\(self.count)", "--start-at", "\(start)",
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
            printError("squall run: \(error)")
            throw ExitStatus.internalError
        }
        // A signal stops every shard (each heals its faults and writes its partial report on SIGTERM).
        let watcher = Task {
            guard let signals, await signals.wait() != nil, !Task.isCancelled else { return }
            for child in children { await child.stop() }
        }
        var logs: [[String]] = []
        for (index, child) in children.enumerated() {
            let ended = await child.waitForExit()
            let (output, errors) = await child.output()
            if !self.quiet { print(output.split(separator: "\n").map { "  [\(index)] \($0)" }.joined(separator: "\n")) }
            let folder = (base as NSString).appendingPathComponent("\(index)/\(scenario.name)")
            guard let run = try? FileManager.default.contentsOfDirectory(atPath: folder).sorted().last,
                let text = try? String(contentsOfFile: folder + "/" + run + "/events.ndjson", encoding: .utf8)
            else {
                watcher.cancel()
                printError(
                    "squall run: shard \(index) left no log (\(ended.map { "\($0)" } ?? "still running")): \(errors)"
                )
                throw ExitStatus.internalError
            }
            logs.append(text.split(separator: "\n").map(String.init))
        }
        watcher.cancel()
        // Shards this run started itself that do not make one run are its own fault, not the user's input.
        return try MergeCommand.writeMerged(
            logs,
            output: self.output,
            command: "squall run: \(scenario.name)",
            mismatched: ExitStatus.internalError,
            printsVerdict: self.printsVerdict
        )
    }
}
