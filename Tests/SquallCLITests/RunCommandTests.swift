import Foundation
import SquallTestSupport
import Testing

/// `squall run` and `squall validate` exit codes, as CI sees them.
@Suite struct RunCommandTests {
    private func write(_ text: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "squall-scenarios-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("s.json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `squall arguments…` with its soft and hard descriptor limits lowered to `limit` by the shell; returns
    /// its exit status and standard error.
    private func runWithDescriptorLimit(_ limit: Int, _ arguments: [String]) throws -> (status: Int32, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments =
            ["-c", "ulimit -Sn \(limit) && ulimit -Hn \(limit) && exec \"$0\" \"$@\"", SquallProcess.executablePath]
            + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    private func scenario(gate: String, duration: String = "20s", items: Int = 4) -> String {
        #"{"name": "cli", "timeScale": 0.05, "duration": "\#(duration)", "server": {"job": {"totalItems": \#(items), "itemInterval": "500ms"}}, "clients": [{"count": 2}], "gates": {\#(gate)}}"#
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

    @Test func aFailedGateOnAStarvedHarnessIsInconclusiveWithExit75() async throws {
        // The same failing gate as above, but the whole process is stopped 300 ms once a second (SIGSTOP from
        // here), so the harness lags far beyond its bound: the failure of this liveness gate cannot be blamed on
        // the app.
        // 80 items 25 ms apart: 2 s of work, so the process is stopped while the clients are under way.
        let file = try self.write(self.scenario(gate: #""polling_requests": ["count>0"]"#, duration: "60s", items: 80))
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.runStarved(["run", file, "--output", output])
        #expect(result.status == 75, "\(result.output)\(result.errors)")
        #expect(result.output.contains("? cli: INCONCLUSIVE"), "\(result.output)")
        #expect(
            result.output.contains("polling_requests count>0: observed 0 — FAILED"),
            "the gate is still computed and shown"
        )
        #expect(result.output.contains("the harness was overloaded"), "\(result.output)")
        let run = try FileManager.default.contentsOfDirectory(atPath: output + "/cli")[0]
        let junit = try String(contentsOfFile: output + "/cli/" + run + "/junit.xml", encoding: .utf8)
        #expect(junit.contains(#"<error type="inconclusive""#), "\(junit)")
        let summary = try String(contentsOfFile: output + "/cli/" + run + "/summary.md", encoding: .utf8)
        #expect(summary.contains("Inconclusive: a gate's failure may be the harness's"), "\(summary)")
        #expect(summary.contains("too few events while the harness was overloaded"), "\(summary)")
        let html = try String(contentsOfFile: output + "/cli/" + run + "/report.html", encoding: .utf8)
        #expect(html.contains(#"class="inconclusive""#))
    }

    @Test func aGateWithNothingToJudgeIsNoPass() async throws {
        // Every connection through the proxy is reset from the start: no client ever receives a message, so
        // "no duplicates" is no evidence of anything — on a healthy harness the run fails.
        let file = try self.write(
            #"{"name": "cli", "timeScale": 0.05, "duration": "20s", "server": {"job": {"totalItems": 4, "itemInterval": "500ms"}}, "clients": [{"count": 2}], "timeline": [{"at": "0s", "fault": {"type": "reset_peer"}}], "gates": {"duplicate_messages": ["count==0"]}}"#
        )
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.run(["run", file, "--output", output])
        #expect(result.status == 99, "\(result.output)\(result.errors)")
        #expect(
            result.output.contains("duplicate_messages count==0: observed 0 (no evidence: group resilient never"),
            "\(result.output)"
        )
    }

    @Test func aPassOnAHarnessStarvedTheWholeRunIsNoPass() async throws {
        // 80 items 25 ms apart: 2 s of work, so the process is stopped while the clients are under way, for most of
        // the run: the overload may have kept the clients from doing what the gate judges.
        let file = try self.write(self.scenario(gate: #""completion_rate": ["rate==1"]"#, duration: "60s", items: 80))
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.runStarved(["run", file, "--output", output])
        #expect(result.status == 75, "\(result.output)\(result.errors)")
        #expect(result.output.contains("passed, INCONCLUSIVE"), "\(result.output)")
        #expect(result.output.contains("passed, but the harness was overloaded for"), "\(result.output)")
    }

    /// Every client's first update comes about 2 s after it starts (the job's first item), against a gate of 1 s:
    /// the app fails it on every run. Starving the harness while the clients wait makes that inconclusive;
    /// starving it only afterwards does not.
    private func slowFirstUpdate() throws -> String {
        try self.write(
            #"{"name": "cli", "duration": "30s", "server": {"job": {"totalItems": 6, "itemInterval": "2s"}}, "clients": [{"count": 2}], "gates": {"time_to_first_update_ms": ["max<1000"]}}"#
        )
    }

    @Test func aFailureTheStarvedWindowCoversIsInconclusive() async throws {
        let file = try self.slowFirstUpdate()
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.runStarved(
            ["run", file, "--output", output],
            during: Duration.milliseconds(600)..<Duration.milliseconds(1_700)
        )
        #expect(result.status == 75, "\(result.output)\(result.errors)")
        #expect(result.output.contains("deciding samples overlapped overload"), "\(result.output)")
    }

    @Test func aFailureOutsideTheStarvedWindowFails() async throws {
        let file = try self.slowFirstUpdate()
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.runStarved(
            ["run", file, "--output", output],
            during: Duration.seconds(5)..<Duration.milliseconds(6_700)
        )
        #expect(result.status == 99, "\(result.output)\(result.errors)")
        #expect(result.output.contains("harness: OVERLOADED"), "the overload happened: \(result.output)")
        #expect(
            result.output.contains("which still fails: the app failed while the harness kept up"),
            "\(result.output)"
        )
    }

    @Test func aKilledRunLeavesAReadableLogThatRechecksAsIncomplete() async throws {
        let file = try self.write(
            #"{"name": "killed", "timeScale": 0.1, "duration": "300s", "server": {"job": {"totalItems": 1000, "itemInterval": "1s"}}, "clients": [{"count": 3}], "gates": {"completion_rate": ["rate==1"]}}"#
        )
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let process = try SquallProcess(["run", file, "--output", output])
        var events = ""
        let logged = await Eventually.wait(timeout: 20) {
            guard let run = try? FileManager.default.contentsOfDirectory(atPath: output + "/killed").first,
                let text = try? String(contentsOfFile: output + "/killed/" + run + "/events.ndjson", encoding: .utf8)
            else { return false }
            events = output + "/killed/" + run + "/events.ndjson"
            return text.contains(#""event":"harness_lag""#) && text.contains(#""event":"delivered""#)
        }
        #expect(logged, "the log reaches the disk while the run goes on")
        process.signal(SIGKILL)
        _ = await process.waitForExit()
        let text = try String(contentsOfFile: events, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count > 3)
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "every line parses: \(line)")
        }
        #expect(!text.contains(#""event":"run_ended""#))
        let recheck = try await SquallProcess.run(["replay", "--recheck", events])
        // The jobs (1000 items) were far from done: the completion gate fails on the partial log, and recheck says
        // so with 99 rather than 130, which CI would read as "cancelled".
        #expect(recheck.status == 99, "\(recheck.output)\(recheck.errors)")
        #expect(recheck.output.contains("INTERRUPTED"), "\(recheck.output)")
        #expect(recheck.output.contains("incomplete"), "\(recheck.output)")
        #expect(recheck.output.contains("the verdict of the gates on the partial log: FAILED"), "\(recheck.output)")
        let report = try await SquallProcess.run(["report", (events as NSString).deletingLastPathComponent])
        #expect(report.status == 0, "\(report.output)\(report.errors)")
        let summary = try String(
            contentsOfFile: (events as NSString).deletingLastPathComponent + "/summary.md",
            encoding: .utf8
        )
        #expect(summary.contains("INTERRUPTED"))
        #expect(summary.contains("incomplete log"))
    }

    @Test func sigintInterruptsARunWhoseClientIgnoresSigterm() async throws {
        let file = try self.write(
            #"{"name": "stubborn", "duration": "60s", "server": {"job": {"totalItems": 100, "itemInterval": "1s"}}, "clients": [{"count": 1, "command": ["/bin/bash", "-c", "trap '' TERM; (exec sleep 60) & sleep 60"]}]}"#
        )
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let process = try SquallProcess(["run", file, "--output", output])
        _ = await Eventually.wait(timeout: 20) { process.standardOutput.contains("▶ stubborn") }
        try await Task.sleep(for: .milliseconds(500))
        let signalled = ContinuousClock.now
        process.signal(SIGINT)
        let (status, _) = await process.waitForExit(timeout: 30)
        #expect(status == 130, "\(process.standardOutput)")
        #expect(ContinuousClock.now - signalled < .seconds(10), "the 2 s grace, then SIGKILL to the group")
        #expect(process.standardOutput.contains("INTERRUPTED"))
    }

    @Test func aRunBeyondTheDescriptorLimitIsRefusedUpFrontWithExit75() async throws {
        // 200 reference clients need about 1 456 descriptors; the shell lowers this run's limit to 1 000.
        let file = try self.write(
            #"{"name": "crowd", "duration": "10s", "clients": [{"count": 200}], "gates": {"completion_rate": ["rate==1"]}}"#
        )
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let (status, text) = try self.runWithDescriptorLimit(1_000, ["run", file, "--output", output])
        #expect(status == 75, "\(text)")
        #expect(text.contains("200 clients need about 1456 file descriptors"), "\(text)")
        #expect(text.contains("the limit is 1000"), "\(text)")
        // 200 clients need 1 456 descriptors; 2 shards of 100 need 856 each.
        #expect(text.contains("`squall run --shards 2`"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: output + "/crowd"), "nothing ran, no report folder is left")
    }

    @Test func aRefusedScenarioAfterAFailedOneLeavesTheExitAt99() async throws {
        // The first scenario fails a gate; the second is refused for descriptors (75). A definite failure of the
        // app outranks a run that could not judge it: exit 99, the combined JUnit file written (issue 29).
        let failing = try self.write(self.scenario(gate: #""polling_requests": ["count>0"]"#))
        let folder = (failing as NSString).deletingLastPathComponent
        let crowd = folder + "/z-crowd.json"
        try
            #"{"name": "crowd", "duration": "10s", "clients": [{"count": 200}], "gates": {"completion_rate": ["rate==1"]}}"#
            .write(toFile: crowd, atomically: true, encoding: .utf8)
        let output = folder + "/reports"
        let (status, text) = try self.runWithDescriptorLimit(1_000, ["run", failing, crowd, "--output", output])
        #expect(status == 99, "\(text)")
        #expect(text.contains("200 clients need about 1456 file descriptors"), "the refusal is still said: \(text)")
        let junit = try String(contentsOfFile: output + "/junit.xml", encoding: .utf8)
        #expect(junit.contains("polling_requests count&gt;0") || junit.contains("polling_requests count>0"), "\(junit)")
        #expect(junit.contains(#"<testsuite name="crowd""#), "the refused scenario has a case of its own: \(junit)")
        #expect(junit.contains(#"<error type="refused""#), "\(junit)")
    }

    @Test(arguments: [
        (
            ["run"],
            [
                "0 all gates passed", "99 a gate failed", "75 inconclusive", "64 invalid", "70 internal",
                "130 interrupted",
            ]
        ),
        (["sim"], ["0 passed", "99 a gate failed", "never 75", "64 invalid", "70 internal", "1 when a real"]),
        (
            ["replay"],
            [
                "0 gates passed", "99 a gate failed", "75 inconclusive", "64 unreadable", "70 internal",
                "130 interrupted",
            ]
        ),
        (
            ["merge"],
            ["0 passed", "99 a gate failed", "75 inconclusive", "65 the shards", "64 unreadable", "70 internal"]
        ),
        (["report"], ["Exit 0", "64 when"]),
        (["validate"], ["0 every scenario is valid", "64 one is invalid"]),
        (["proxy"], ["0 stopped by SIGINT/SIGTERM", "64 an invalid proxies file"]),
        (["serve"], ["0 stopped by SIGINT/SIGTERM", "64 a port"]),
        (
            ["client"],
            ["0 when the job completed", "1 when it failed", "70 when the client stopped", "64 on bad usage"]
        ),
        (["faults"], ["0 listed", "64 usage"]),
        (["profiles"], ["0 listed", "64 usage"]),
        (["bench"], ["64 on usage"]),
        (["bench", "proxy"], ["0 measured", "64 usage"]),
        (["bench", "capacity"], ["0 measured", "64 usage", "70 a sharded trial"]),
        (["bench", "loss"], ["0 measured", "64 usage"]),
        (["bench", "sse"], ["0 measured", "64 usage"]),
        (["bench", "soak"], ["Exit 0 when", "1 otherwise"]),
        (["bench", "hostile"], ["Exit 0 when", "1 otherwise"]),
        (
            ["shrink"],
            [
                "0 a capsule was written", "1 the scenario does not fail", "99 with --confirm", "64 invalid",
                "70 internal",
            ]
        ),
        (["explore"], ["0 no failure found", "99 a failure found", "64 invalid input"]),
        (["bench", "explore"], ["0 the benchmark ran", "64 usage"]),
    ])
    func everyCommandsHelpListsTheExitCodesItCanGive(command: [String], codes: [String]) async throws {
        let result = try await SquallProcess.run(command + ["--help"])
        let help = result.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for code in codes {
            #expect(help.contains(code), "\(command) \(code): \(help)")
        }
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
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios").path
        let result = try await SquallProcess.run(["validate", folder])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.split(separator: "\n").count >= 13)
    }

    @Test func sigintWritesAPartialReportAndExits130() async throws {
        let file = try self.write(
            #"{"name": "long", "timeScale": 0.1, "duration": "300s", "server": {"job": {"totalItems": 1000, "itemInterval": "1s"}}, "clients": [{"count": 2}], "gates": {"completion_rate": ["rate==1"]}}"#
        )
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

    /// Half of the two clients (one per group, picked by seed) is refused for the whole run; the gate looks at group
    /// `b` only, so the run fails exactly for the seeds that pick `b-1`.
    private let seedDependent = #"""
        {"name": "flaky", "timeScale": 0.05, "duration": "10s",
         "server": {"job": {"totalItems": 4, "itemInterval": "500ms"}},
         "clients": [{"name": "a", "count": 1}, {"name": "b", "count": 1}],
         "timeline": [{"at": "0s", "fault": {"name": "cut", "type": "refuse"}, "target": {"clients": 0.5}}],
         "gates": {"completion_rate{group:b}": ["rate==1"]}}
        """#

    @Test func seedsFindsTheFirstFailingSeedAndSaysHowToReproduceIt() async throws {
        let file = try self.write(self.seedDependent)
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.run(["run", file, "--seeds", "1..40", "--output", output, "--quiet"])
        #expect(result.status == 99, "\(result.output)\(result.errors)")
        let line = try #require(
            result.output.split(separator: "\n").first { $0.hasPrefix("| flaky | ") },
            "\(result.output)"
        )
        let seed = try #require(
            line.split(separator: "|").dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces) }
        )
        #expect(line.contains("`squall run \(file) --seed \(seed)`"), "\(line)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: output + "/flaky")
        #expect(runs.count == Int(seed)!, "stopped at the first failing seed, \(seed), after \(runs.count) runs")
        #expect(runs.count > 0)

        let again = try await SquallProcess.run(["run", file, "--seed", seed, "--output", output, "--quiet"])
        #expect(again.status == 99, "the printed command reproduces the failure: \(again.output)")
    }

    @Test func keepGoingRunsEverySeedAndListsEachFailure() async throws {
        let file = try self.write(self.seedDependent)
        let output = (file as NSString).deletingLastPathComponent + "/reports"
        let result = try await SquallProcess.run(
            ["run", file, "--seeds", "1..6", "--keep-going", "--output", output, "--quiet"]
        )
        let failures = result.output.split(separator: "\n").filter { $0.hasPrefix("| flaky | ") }
        #expect(result.output.contains("6 runs, \(failures.count) with failing gates"), "\(result.output)")
        #expect(result.status == (failures.isEmpty ? 0 : 99))
        #expect(try FileManager.default.contentsOfDirectory(atPath: output + "/flaky").count == 6)
    }

    @Test func seedOptionsAreChecked() async throws {
        let file = try self.write(self.seedDependent)
        for arguments in [
            ["--seed", "1", "--seeds", "1..2"], ["--keep-going"], ["--seeds", "5..1"], ["--seeds", "x"],
        ] {
            let result = try await SquallProcess.run(["run", file] + arguments)
            #expect(result.status == 64, "\(arguments): \(result.errors)")
        }
    }
}
