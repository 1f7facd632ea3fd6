import Foundation
import SquallTestSupport
import Testing

/// `squall run --shard i/N` and `squall merge`, as a CI job (or a Kubernetes Indexed Job) uses them.
@Suite struct MergeCommandTests {
    @Test func twoShardsMergeIntoOneVerdictAndALoneShardIsRefusedWith65() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("squall-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("s.json").path
        try
            #"{"name": "halves", "timeScale": 0.05, "duration": "20s", "server": {"job": {"totalItems": 4, "itemInterval": "500ms"}}, "clients": [{"count": 4}], "gates": {"completion_rate": ["rate==1"]}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let start = Int(Date().timeIntervalSince1970) + 1
        var shards: [String] = []
        for index in 0..<2 {
            let output = folder.path + "/shard-\(index)"
            let result = try await SquallProcess.run(
                ["run", file, "--shard", "\(index)/2", "--start-at", "\(start)", "--output", output, "--quiet"]
            )
            #expect(result.status == 0, "\(result.output)\(result.errors)")
            let run = try FileManager.default.contentsOfDirectory(atPath: output + "/halves")[0]
            shards.append(output + "/halves/" + run)
        }
        let merged = try await SquallProcess.run(["merge"] + shards + ["--output", folder.path + "/merged"])
        #expect(merged.status == 0, "\(merged.output)\(merged.errors)")
        #expect(merged.output.contains("merged 2 shards: 4 clients"), "\(merged.output)")
        #expect(merged.output.contains("✔ halves: passed"))
        // The folders `--output` named, as a newcomer passes them: the run folders are found under them.
        let outputs = (0..<2).map { folder.path + "/shard-\($0)" }
        let byOutput = try await SquallProcess.run(["merge"] + outputs + ["--output", folder.path + "/merged"])
        #expect(byOutput.status == 0, "\(byOutput.output)\(byOutput.errors)")
        #expect(byOutput.output.contains("✔ halves: passed"), "\(byOutput.output)")
        let nothing = try await SquallProcess.run(["merge", folder.path + "/merged-nowhere", outputs[1]])
        #expect(nothing.status == 64)
        #expect(nothing.errors.contains("no such file or folder"), "\(nothing.errors)")
        let alone = try await SquallProcess.run(["merge", shards[0], "--output", folder.path + "/merged"])
        #expect(alone.status == 65, "\(alone.output)\(alone.errors)")
        #expect(alone.errors.contains("missing 1"), "\(alone.errors)")
        let bad = try await SquallProcess.run(["run", file, "--shard", "2/2"])
        #expect(bad.status == 64)
    }

    @Test func shardsOnOneMachineRunAsChildProcessesAndMergeIntoOneReport() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("squall-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("s.json").path
        try
            #"{"name": "thirds", "timeScale": 0.05, "duration": "20s", "server": {"job": {"totalItems": 4, "itemInterval": "500ms"}}, "clients": [{"name": "web", "count": 4}, {"name": "app", "count": 2}], "timeline": [{"at": "1s", "handoff": {"mode": "reset"}}], "gates": {"completion_rate": ["rate==1"]}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let output = folder.path + "/reports"
        let result = try await SquallProcess.run(["run", file, "--shards", "3", "--output", output], timeout: 90)
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(result.output.contains("6 clients in 3 shards"), "\(result.output)")
        let run = try FileManager.default.contentsOfDirectory(atPath: output + "/thirds")[0]
        let log = try String(contentsOfFile: output + "/thirds/" + run + "/events.ndjson", encoding: .utf8)
        let started = log.split(separator: "\n").filter { $0.contains(#""event":"client_started""#) }
        #expect(started.count == 6)
        for id in ["web-1", "web-4", "app-1", "app-2"] {
            #expect(started.contains { $0.contains(#""client":"\#(id)""#) }, "\(id)")
        }
        #expect(log.split(separator: "\n").filter { $0.contains(#""event":"handoff""#) }.count == 1)
        let shards = try FileManager.default.contentsOfDirectory(atPath: output + "/shards/thirds")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: output + "/shards/thirds/" + shards[0]).sorted() == [
                "0", "1", "2",
            ]
        )
    }
}
