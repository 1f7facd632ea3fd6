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
