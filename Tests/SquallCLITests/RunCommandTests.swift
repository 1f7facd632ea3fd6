import Foundation
import SquallTestSupport
import Testing

/// `squall run` and `squall validate` exit codes, as CI sees them.
@Suite struct RunCommandTests {
    private func write(_ text: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("squall-scenarios-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("s.json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func scenario(gate: String) -> String {
        #"{"name": "cli", "timeScale": 0.05, "duration": "20s", "server": {"job": {"totalItems": 4, "itemInterval": "500ms"}}, "clients": [{"count": 2}], "gates": {\#(gate)}}"#
    }

    @Test func passingGatesExit0AndWriteTheReportFolder() async throws {
        let file = try self.write(self.scenario(gate: #""completion_rate": ["rate==1"]"#))
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.run(["run", file, "--output", output])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(result.output.contains("✔ cli: passed (2/2 gates)"))
        let runs = try FileManager.default.contentsOfDirectory(atPath: output + "/cli")
        #expect(runs.count == 1)
        #expect(FileManager.default.fileExists(atPath: output + "/junit.xml"), "the combined JUnit file")
    }

    @Test func aFailedGateExits99NamingTheObservedValue() async throws {
        let file = try self.write(self.scenario(gate: #""polling_requests": ["count>0"]"#))
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.run(["run", file, "--output", output])
        #expect(result.status == 99)
        #expect(result.output.contains("polling_requests count>0: observed 0 — FAILED"), "\(result.output)")
    }

    @Test func anInvalidScenarioExits64WithItsJSONPath() async throws {
        let file = try self.write(#"{"name": "bad", "duration": "10s", "clients": [{"count": 1, "strategy": "yolo"}]}"#)
        for command in ["run", "validate"] {
            let result = try await SquallProcess.run([command, file])
            #expect(result.status == 64)
            #expect(result.errors.contains("clients[0].strategy"), "\(command): \(result.errors)")
        }
    }

    @Test func validateAcceptsTheShippedScenarios() async throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios").path
        let result = try await SquallProcess.run(["validate", folder])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.split(separator: "\n").count >= 13)
    }

    @Test func sigintWritesAPartialReportAndExits130() async throws {
        let file = try self.write(#"{"name": "long", "timeScale": 0.1, "duration": "300s", "server": {"job": {"totalItems": 1000, "itemInterval": "1s"}}, "clients": [{"count": 2}], "gates": {"completion_rate": ["rate==1"]}}"#)
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let process = try SquallProcess(["run", file, "--output", output])
        _ = await Eventually.wait(timeout: 20) { process.standardOutput.contains("▶ long") }
        try await Task.sleep(for: .milliseconds(500))
        process.signal(SIGINT)
        let (status, _) = await process.waitForExit()
        #expect(status == 130)
        #expect(process.standardOutput.contains("INTERRUPTED"))
        let runs = try FileManager.default.contentsOfDirectory(atPath: output + "/long")
        let events = try String(contentsOfFile: output + "/long/" + runs[0] + "/events.ndjson", encoding: .utf8)
        #expect(events.contains(#""interrupted":true"#))
        #expect(events.contains(#""event":"stopped""#), "clients were stopped and said so")
    }
}
