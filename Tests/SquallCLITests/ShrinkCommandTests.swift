import Foundation
import SquallTestSupport
import Testing

/// `squall shrink` and `squall explore` as a user runs them: capsules on disk, exit codes.
@Suite struct ShrinkCommandTests {
    private func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("squall-shrink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    private func scenario(_ strategy: String, in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("s.json").path
        try """
        {"name": "shrink-cli", "seed": 5, "timeScale": 0.1, "duration": "90s",
         "server": {"job": {"totalItems": 40, "itemInterval": "500ms"}},
         "clients": [{"count": 20, "rampUp": "3s", "strategy": "\(strategy)"}],
         "timeline": [{"at": "10s", "handoff": {"mode": "reset", "blackout": "2s"}}],
         "gates": {"duplicate_messages": ["count==0"], "completion_rate": ["rate>0.5"]}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aFailingScenarioBecomesACapsuleThatReplaysTheFailure() async throws {
        let folder = try self.folder()
        let output = folder.appendingPathComponent("capsules").path
        let result = try await SquallProcess.run([
            "shrink", try self.scenario("broken-no-resume", in: folder), "--output", output,
        ])
        #expect(result.status == 0, "\(result.output) \(result.errors)")
        let capsule = URL(fileURLWithPath: output).appendingPathComponent("shrink-cli-seed5")
        let document = try JSONSerialization.jsonObject(
            with: Data(contentsOf: capsule.appendingPathComponent("capsule.json"))
        )
        let members = try #require(document as? [String: Any])
        let minimal = try #require(members["minimal"] as? [String: Any])
        #expect((minimal["clients"] as? Double).map { $0 <= 3 } == true, "\(minimal)")
        #expect((members["gate"] as? [String: Any])?["key"] as? String == "duplicate_messages")
        #expect((members["seed"] as? Double) == 5)
        // The replay command it names fails the same gate.
        let replay = try await SquallProcess.run([
            "sim", capsule.appendingPathComponent("scenario.json").path, "--output",
            folder.appendingPathComponent("r").path,
        ])
        #expect(replay.status == 99)
        #expect(replay.output.contains("duplicate_messages count==0"), "\(replay.output)")
    }

    @Test func aPassingScenarioHasNothingToShrinkAndBadInputIsRefused() async throws {
        let folder = try self.folder()
        let passing = try await SquallProcess.run([
            "shrink", try self.scenario("resilient", in: folder), "--output", folder.path,
        ])
        #expect(passing.status == 1)
        #expect(passing.output.contains("nothing to shrink"))
        let invalid = try await SquallProcess.run(["shrink", try self.scenario("yolo", in: folder)])
        #expect(invalid.status == 64)
        #expect(invalid.errors.contains("clients[0].strategy"), "\(invalid.errors)")
        let missing = try await SquallProcess.run(["shrink", folder.appendingPathComponent("none.json").path])
        #expect(missing.status == 64)
    }

    @Test func exploreExits99WithCapsulesForAMutantAnd0ForTheCorrectClient() async throws {
        let folder = try self.folder()
        let mutant = try await SquallProcess.run([
            "explore", "--strategy", "mutant-no-dedup", "--limit", "60", "--output", folder.path,
        ])
        #expect(mutant.status == 99, "\(mutant.output)")
        #expect(mutant.output.contains("duplicate_messages"))
        let written = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(written.contains { $0.hasPrefix("mutant-no-dedup-seed1-") })
        let correct = try await SquallProcess.run([
            "explore", "--limit", "60", "--output", folder.appendingPathComponent("none").path,
        ])
        #expect(correct.status == 0, "\(correct.output)")
        #expect(correct.output.contains("60 schedules, 0 failing"))
        let listed = try await SquallProcess.run(["explore", "--list-mutants"])
        #expect(listed.output.split(separator: "\n").count == 20)
        let unknown = try await SquallProcess.run(["explore", "--strategy", "nope"])
        #expect(unknown.status == 64)
    }
}
