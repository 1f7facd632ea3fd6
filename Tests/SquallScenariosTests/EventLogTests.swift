import Foundation
import SquallFaults
import SquallScenarios
import Testing

/// The event log on disk: every line recorded reaches the file, and a write that fails is neither hidden nor judged.
@Suite struct EventLogTests {
    @Test func everyRecordedLineIsOnDiskAfterClose() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("squall-log-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try EventLog(writingTo: path)
        for index in 0..<1_000 {
            log.record(.clientStarted(client: "c\(index)", group: "g", strategy: "resilient", jobId: "j"))
        }
        log.close()
        #expect(log.writeFailure == nil)
        #expect(log.backlog == 0)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1_000)
    }

    @Test func aGzipLogReadsBackLineForLineAndUpToItsLastFlushWhenTheRunIsKilled() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("squall-gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plainPath = folder.appendingPathComponent("events.ndjson").path
        let gzipPath = folder.appendingPathComponent("events.ndjson.gz").path
        let plain = try EventLog(writingTo: plainPath)
        let gzip = try EventLog(writingTo: gzipPath)
        for batch in 0..<5 {
            for index in 0..<2_000 {
                let event = RunnerEvent.clientStarted(
                    client: "c\(batch)-\(index)",
                    group: "g",
                    strategy: "resilient",
                    jobId: "j\(index % 7)"
                )
                plain.record(event, time: Double(batch * 2_000 + index))
                gzip.record(event, time: Double(batch * 2_000 + index))
            }
            plain.flush()
            gzip.flush()
        }
        // Killed before close: no gzip trailer, yet every flushed batch reads back.
        let killed = try LogLineReader.lines(of: gzipPath)
        #expect(killed.count == 10_000)
        plain.close()
        gzip.close()
        let bytes = try #require(FileManager.default.contents(atPath: gzipPath))
        #expect(Array(bytes.prefix(2)) == [0x1F, 0x8B], "a gzip stream")
        let plainText = try String(contentsOfFile: plainPath, encoding: .utf8)
        #expect(bytes.count * 5 < plainText.utf8.count, "\(bytes.count) bytes against \(plainText.utf8.count)")
        #expect(try LogLineReader.lines(of: gzipPath) == plainText.split(separator: "\n").map(String.init))
        #expect(killed == plainText.split(separator: "\n").map(String.init))
        // gzip(1) reads it too, whole (its trailer is there after close).
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gunzip.arguments = ["-dc", gzipPath]
        let output = Pipe()
        gunzip.standardOutput = output
        try gunzip.run()
        let unzipped = output.fileHandleForReading.readDataToEndOfFile()
        gunzip.waitUntilExit()
        #expect(gunzip.terminationStatus == 0)
        #expect(String(decoding: unzipped, as: UTF8.self) == plainText)
        // A corrupt stream is refused, naming the file.
        var corrupt = Array(bytes)
        for index in stride(from: 40, to: corrupt.count - 8, by: 3) { corrupt[index] ^= 0x5A }
        let corruptPath = folder.appendingPathComponent("corrupt.ndjson.gz").path
        #expect(FileManager.default.createFile(atPath: corruptPath, contents: Data(corrupt)))
        #expect {
            _ = try LogLineReader.lines(of: corruptPath)
        } throws: { error in
            "\(error)".contains("corrupt.ndjson.gz") && "\(error)".contains("gzip")
        }
    }

    @Test func aFullDiskKeepsTheLinesUnwrittenAndSaysWhy() throws {
        // Every write to /dev/full fails with ENOSPC.
        let log = try EventLog(writingTo: "/dev/full")
        log.record(.runEnded(reason: "r", interrupted: false))
        log.record(.runEnded(reason: "r", interrupted: false))
        log.flush()
        #expect(log.writeFailure == String(cString: strerror(ENOSPC)))
        #expect(log.backlog == 2, "lines not on disk are not counted as written")
        log.record(.runEnded(reason: "r", interrupted: false))
        log.flush()
        #expect(log.backlog == 3, "the failed lines are tried again, in front of the new one")
        log.close()
        #expect(log.writeFailure != nil)
    }

    @Test func aRunWhoseLogCouldNotBeWrittenGivesNoVerdict() async throws {
        let scenario = try Scenario(
            bytes: Array(
                #"""
                {"name": "full-disk", "seed": 1, "timeScale": 0.05, "duration": "10s",
                 "server": {"job": {"totalItems": 4, "itemInterval": "500ms"}},
                 "clients": [{"count": 1, "strategy": "resilient"}],
                 "gates": {"lost_messages": ["count==0"]}}
                """#.utf8
            )
        )
        let error = await #expect(throws: ScenarioError.self) {
            try await ScenarioRunner(scenario: scenario, eventLogPath: "/dev/full").run()
        }
        guard case .eventLogIncomplete(let path, let reason)? = error else {
            Issue.record("expected eventLogIncomplete, got \(String(describing: error))")
            return
        }
        #expect(path == "/dev/full")
        #expect(reason == String(cString: strerror(ENOSPC)))
        #expect(error.map { "\($0)" }?.contains("no verdict is given") == true)
    }
}
