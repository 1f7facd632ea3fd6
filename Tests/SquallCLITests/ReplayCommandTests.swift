import Foundation
import SquallTestSupport
import Testing

/// `squall replay --recheck/--rerun` and `squall report` on a run recorded by `squall run`.
@Suite(.serialized) struct ReplayCommandTests {
    /// Runs a small scenario once and returns its run folder.
    private func recordedRun(
        gate: String = #""completion_rate": ["rate==1"], "lost_messages": ["count==0"]"#
    ) async throws -> (folder: String, output: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("squall-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let file = root.appendingPathComponent("s.json").path
        let scenario =
            #"{"name": "replayed", "seed": 11, "timeScale": 0.05, "duration": "20s", "server": {"job": {"totalItems": 6, "itemInterval": "500ms"}}, "clients": [{"count": 3}], "timeline": [{"at": "1s", "for": "1s", "fault": {"type": "latency", "attributes": {"latency": 200}}}], "gates": {\#(gate)}}"#
        try scenario.write(toFile: file, atomically: true, encoding: .utf8)
        let output = root.appendingPathComponent("reports").path
        let result = try await SquallProcess.run(["run", file, "--output", output])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: output + "/replayed")
        return (output + "/replayed/" + runs[0], root.path)
    }

    @Test(arguments: ["real-wifi-to-cellular-handoff", "sim-handoff-blackhole-fails"])
    func recheckReproducesReportsOfLogsWrittenBeforeTheStreamingMetrics(_ run: String) async throws {
        let stored = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Recheck/\(run)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "squall-recheck-\(UUID().uuidString)"
        )
        try FileManager.default.copyItem(at: stored, to: folder)
        let result = try await SquallProcess.run(["replay", "--recheck", folder.path])
        #expect(
            result.output.contains("identical: the recomputed report reproduces"),
            "\(result.output)\(result.errors)"
        )
        // And the comparison can fail: one step metric's figure changed in the stored report is found.
        let report = folder.appendingPathComponent("report.json")
        let text = try String(contentsOf: report, encoding: .utf8)
        let changed = text.replacingOccurrences(of: #""lost_messages""#, with: #""lost_messages_""#)
        #expect(changed != text)
        try changed.write(to: report, atomically: true, encoding: .utf8)
        let differs = try await SquallProcess.run(["replay", "--recheck", folder.path])
        #expect(!differs.output.contains("identical: the recomputed report reproduces"), "\(differs.output)")
        #expect(differs.output.contains("lost_messages"), "\(differs.output)\(differs.errors)")
    }

    @Test func recheckReproducesTheReportByteForByte() async throws {
        let (folder, _) = try await self.recordedRun()
        let result = try await SquallProcess.run(["replay", "--recheck", folder + "/events.ndjson"])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(result.output.contains("identical: the recomputed report reproduces"), "\(result.output)")
    }

    @Test func recheckOfATamperedLogFailsItsGateAndNamesTheDifference() async throws {
        let (folder, _) = try await self.recordedRun()
        let events = folder + "/events.ndjson"
        let lines = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n").map(String.init)
        // Drop one client's last delivery: the log now shows a lost message the report did not have.
        let dropped = try #require(
            lines.lastIndex { $0.contains(#""event":"delivered""#) && $0.contains(#""client":"resilient-1""#) }
        )
        var tampered = lines
        tampered.remove(at: dropped)
        try (tampered.joined(separator: "\n") + "\n").write(toFile: events, atomically: true, encoding: .utf8)
        let result = try await SquallProcess.run(["replay", "--recheck", folder])
        #expect(result.status == 99, "\(result.output)\(result.errors)")
        #expect(result.output.contains("lost_messages count==0: observed 1 — FAILED"), "\(result.output)")
        #expect(result.output.contains("DIFFERENT from"), "\(result.output)")
        #expect(result.output.contains("[metric] metrics.lost_messages: recorded 0, rerun 1"), "\(result.output)")
    }

    @Test func recheckRefusesAnInvalidLogNamingTheLine() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "squall-replay-\(UUID().uuidString).ndjson"
        ).path
        try "{\"time\":1,\"source\":\"run\",\"event\":\"x\"}\nnot json\n".write(
            toFile: root,
            atomically: true,
            encoding: .utf8
        )
        let result = try await SquallProcess.run(["replay", "--recheck", root])
        #expect(result.status == 64)
        #expect(result.errors.contains("line 2"), "\(result.errors)")
        let usage = try await SquallProcess.run(["replay"])
        #expect(usage.status == 64)
        #expect(usage.errors.contains("exactly one of --recheck"), "\(usage.errors)")
    }

    @Test func rerunPlaysTheSamePlanAndWritesTheComparison() async throws {
        let (folder, root) = try await self.recordedRun()
        let output = root + "/rerun"
        let result = try await SquallProcess.run(["replay", "--rerun", folder + "/report.json", "--output", output])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(result.output.contains("identical)"), "the planned timeline digest matches: \(result.output)")
        #expect(result.output.contains("same outcome") || result.output.contains("OUTCOME DIFFERS"), "\(result.output)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: output + "/replayed")
        let comparison = try String(contentsOfFile: output + "/replayed/" + runs[0] + "/rerun.json", encoding: .utf8)
        #expect(
            comparison.contains(#""outcomeDiffers": false"#),
            "a sound client completes and loses nothing both times: \(comparison)"
        )
    }

    @Test func rerunReportsAGateWhoseVerdictChanged() async throws {
        let (folder, root) = try await self.recordedRun()
        // Edit the recorded report as if the recorded run had failed a gate: the rerun passes, so the verdict differs.
        let reportPath = folder + "/report.json"
        let report = try String(contentsOfFile: reportPath, encoding: .utf8)
        let edited = report.replacingOccurrences(of: #""passed": true"#, with: #""passed": false"#)
        try edited.write(toFile: reportPath, atomically: true, encoding: .utf8)
        let result = try await SquallProcess.run([
            "replay", "--rerun", reportPath, "--output", root + "/rerun", "--strict",
        ])
        #expect(result.status == 99, "--strict fails on a changed outcome: \(result.output)\(result.errors)")
        #expect(result.output.contains("OUTCOME DIFFERS"), "\(result.output)")
        #expect(
            result.output.contains("[gate] gate completion_rate rate==1: recorded FAILED (1), rerun passed (1)"),
            "\(result.output)"
        )
    }

    @Test func reportReRendersEveryRunFromItsLog() async throws {
        let (folder, root) = try await self.recordedRun()
        for name in ["report.json", "junit.xml", "summary.md", "report.html"] {
            try FileManager.default.removeItem(atPath: folder + "/" + name)
        }
        let events = try String(contentsOfFile: folder + "/events.ndjson", encoding: .utf8)
        let result = try await SquallProcess.run(["report", root + "/reports"])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(result.output.contains("✔ replayed: passed"), "\(result.output)")
        for name in ["report.json", "junit.xml", "summary.md", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + name), "\(name) re-rendered")
        }
        #expect(
            try String(contentsOfFile: folder + "/events.ndjson", encoding: .utf8) == events,
            "the log is never rewritten"
        )
        let recheck = try await SquallProcess.run(["replay", "--recheck", folder])
        #expect(recheck.output.contains("identical"), "the re-rendered report.json is the one a recheck computes")
        let missing = try await SquallProcess.run(["report", root + "/nothing-here"])
        #expect(missing.status == 64)
        #expect(missing.errors.contains("no such file or folder"), "\(missing.errors)")
    }
}
