import Foundation
import SquallBenchmarks
import SquallFaults
import SquallScenarios
import SquallTestSupport
import Testing

/// `squall bench capacity`: what a trial that one process cannot hold does, with and without `--shards`.
@Suite struct BenchCapacityCommandTests {
    /// Runs `squall bench capacity` for one trial of `clients` under a descriptor limit of 1 000.
    private func bench(clients: Int, shards: Int) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c",
            "ulimit -Sn 1000 && ulimit -Hn 1000 && exec \"$0\" bench capacity --time-scale 0.2 --start \"$1\" "
                + "--maximum \"$1\" --refinements 0 --shards \"$2\"",
            SquallProcess.executablePath, "\(clients)", "\(shards)",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func aTrialBeyondOneProcesssDescriptorsIsNotRunButNamesTheFigures() throws {
        // 200 reference clients need about 1 456 descriptors in one process; the limit here is 1 000.
        let (status, output) = try self.bench(clients: 200, shards: 1)
        #expect(status == 0, "\(output)")
        #expect(output.contains("not run"), "\(output)")
        #expect(output.contains("200 clients need about 1456 file descriptors"), "\(output)")
        #expect(output.contains("`squall bench capacity --shards 2`"), "the advice fits the command: \(output)")
        #expect(!output.contains("overloaded"), "a trial that did not run overloaded nothing: \(output)")
        #expect(output.contains("no trial ran"), "no capacity is claimed: \(output)")
    }

    @Test func withShardsTheSameTrialRunsInChildProcessesAndIsJudgedMerged() throws {
        // Two shards of 100 need about 856 descriptors each, within the limit: the trial runs and all five gates
        // of the merged run are judged (healthy or not: a debug build may lag).
        let (status, output) = try self.bench(clients: 200, shards: 2)
        #expect(status == 0, "\(output)")
        #expect(output.contains("every trial runs as 2 shards"), "\(output)")
        let row = output.split(separator: "\n").first { $0.hasPrefix("    200  ") }
        #expect(row != nil, "a result row for 200 clients: \(output)")
        #expect(row?.contains("/5 ") == true, "the merged run's gates were judged: \(output)")
        #expect(!output.contains("not run"), "\(output)")
        #expect(
            output.contains("reference clients honestly at timeScale 0.2 as 2 shards")
                || output.contains("even 200 clients overloaded"),
            "the verdict line names the shards when it claims a capacity: \(output)"
        )
        #expect(!output.contains("squall-bench-"), "no path to the removed scratch folder is printed: \(output)")
    }

    @Test func sizesBeyondOneRunnerNeedShards() async throws {
        let alone = try await SquallProcess.run(["bench", "capacity", "--start", "6000", "--maximum", "6000"])
        #expect(alone.status == 64)
        #expect(alone.errors.contains("5000 per shard; more with --shards"), "\(alone.errors)")
        // Two runners hold twice as many: the trial's scenario is valid.
        let scenario = try CapacityBenchmark(start: 8_000, maximum: 8_000, shards: 2).scenario(clients: 8_000)
        #expect(scenario.clientCount == 8_000)
        #expect(throws: FaultError.self) {
            try CapacityBenchmark(start: 8_000, maximum: 8_000).scenario(clients: 8_000)
        }
    }
}
