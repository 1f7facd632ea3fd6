import Foundation
import SquallTestSupport
import Testing

/// `squall sim` exit codes and report folders, as CI sees them.
@Suite struct SimCommandTests {
    private func write(_ text: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("squall-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("s.json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func restart(_ strategy: String) -> String {
        #"{"name": "simcli", "timeScale": 0.05, "duration": "40s", "server": {"job": {"totalItems": 40, "itemInterval": "500ms"}}, "clients": [{"count": 300, "strategy": "\#(strategy)"}], "timeline": [{"at": "8s", "for": "3s", "action": "server_restart"}], "gates": {"duplicate_messages": ["count==0"]}}"#
    }

    @Test func aSoundRunPassesDeterministicallyInAModeSimReport() async throws {
        let file = try self.write(self.restart("resilient"))
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.run(["sim", file, "--output", output, "--check-determinism"])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(
            result.output.contains("300 clients, 40s of virtual time (timeScale 0.05 ignored)"),
            "\(result.output)"
        )
        #expect(result.output.contains("deterministic: a second run wrote the identical log"), "\(result.output)")
        #expect(result.output.contains("✔ simcli: passed"))
        let run = try FileManager.default.contentsOfDirectory(atPath: output + "/simcli")[0]
        let report = try String(contentsOfFile: output + "/simcli/" + run + "/report.json", encoding: .utf8)
        #expect(report.replacingOccurrences(of: " ", with: "").contains(#""mode":"sim""#))
        let recheck = try await SquallProcess.run(["replay", "--recheck", output + "/simcli/" + run])
        #expect(recheck.status == 0, "\(recheck.output)\(recheck.errors)")
        #expect(recheck.output.contains("byte for byte"), "\(recheck.output)")
    }

    @Test func aCompressedLogIsReadByRecheckReportAndTheDeterminismCheck() async throws {
        let file = try self.write(self.restart("broken-no-dedup"))
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.run([
            "sim", file, "--output", output, "--check-determinism", "--log-compression", "gzip",
        ])
        #expect(result.status == 99, "\(result.output)\(result.errors)")
        #expect(result.output.contains("deterministic: a second run wrote the identical log"), "\(result.output)")
        #expect(result.output.contains("; log events.ndjson.gz "), "\(result.output)")
        let run = output + "/simcli/" + (try FileManager.default.contentsOfDirectory(atPath: output + "/simcli")[0])
        let files = try FileManager.default.contentsOfDirectory(atPath: run)
        #expect(files.contains("events.ndjson.gz") && !files.contains("events.ndjson"), "\(files)")
        let recheck = try await SquallProcess.run(["replay", "--recheck", run])
        #expect(recheck.output.contains("byte for byte"), "\(recheck.output)\(recheck.errors)")
        let summary = try String(contentsOfFile: run + "/summary.md", encoding: .utf8)
        try FileManager.default.removeItem(atPath: run + "/summary.md")
        let report = try await SquallProcess.run(["report", output])
        #expect(report.status == 0, "\(report.output)\(report.errors)")
        #expect(try String(contentsOfFile: run + "/summary.md", encoding: .utf8) == summary)
        // The failing clients' timelines were read back from the compressed log.
        #expect(summary.contains("delivered seq"), "\(summary)")
    }

    @Test func everyShippedScenarioPassesInVirtualTime() async throws {
        // idle-timeout-race once never ended: a limit check a rounding error short of its due time was rescheduled at
        // the same virtual instant forever.
        let scenarios = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios").path
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("squall-sim-\(UUID().uuidString)")
        let result = try await SquallProcess.run(["sim", scenarios, "--output", output.path, "--quiet"], timeout: 120)
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        let shipped = try FileManager.default.contentsOfDirectory(atPath: scenarios).filter { $0.hasSuffix(".json") }
        #expect(shipped.count >= 14)
        for file in shipped {
            let name = String(file.dropLast(5))
            #expect(result.output.contains("✔ \(name): passed"), "\(name): \(result.output)")
        }
    }

    @Test func seedsFindTheFirstFailingSeedInVirtualTimeAndTheCommandReproducesIt() async throws {
        // One of the two clients, picked by seed, is refused for the whole run; the gate looks at group b only.
        let file = try self.write(
            #"{"name": "flaky", "duration": "10s", "server": {"job": {"totalItems": 4, "itemInterval": "500ms"}}, "clients": [{"name": "a", "count": 1}, {"name": "b", "count": 1}], "timeline": [{"at": "0s", "fault": {"name": "cut", "type": "refuse"}, "target": {"clients": 0.5}}], "gates": {"completion_rate{group:b}": ["rate==1"]}}"#
        )
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.run(["sim", file, "--seeds", "1..40", "--output", output, "--quiet"])
        #expect(result.status == 99, "\(result.output)\(result.errors)")
        let line = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("| flaky | ") })
        let seed = try #require(
            line.split(separator: "|").dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces) }
        )
        #expect(line.contains("`squall sim \(file) --seed \(seed)`"), "\(line)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: output + "/flaky").count == Int(seed)!)
        let again = try await SquallProcess.run(["sim", file, "--seed", seed, "--output", output, "--quiet"])
        #expect(again.status == 99, "\(again.output)")
    }

    @Test func aBrokenPresetExits99AndAnExternalServerIsRefusedWithItsPath() async throws {
        let broken = try self.write(self.restart("broken-no-dedup"))
        let output = (broken as NSString).deletingLastPathComponent + "/reports"
        let failed = try await SquallProcess.run(["sim", broken, "--output", output, "--quiet"])
        #expect(failed.status == 99, "\(failed.output)\(failed.errors)")
        #expect(failed.output.contains("duplicate_messages count==0: observed"), "\(failed.output)")
        let external = try self.write(
            #"{"name": "own", "duration": "10s", "server": {"url": "http://127.0.0.1:9"}, "clients": [{"count": 1, "command": ["/bin/true"]}]}"#
        )
        let refused = try await SquallProcess.run(["sim", external, "--output", output])
        #expect(refused.status == 64, "\(refused.output)\(refused.errors)")
        #expect(
            refused.errors.contains("server.url") && refused.errors.contains("clients[0].command"),
            "\(refused.errors)"
        )
    }
}
