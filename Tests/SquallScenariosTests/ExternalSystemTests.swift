import Foundation
import SquallFaults
import SquallReports
import SquallScenarios
import SquallTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

private let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// Bring-your-own-app runs: external client programs (the Python example, deliberately broken and garbage-writing
/// ones) and an external server started by its command, all over loopback through the proxy.
@Suite(.serialized) struct ExternalSystemTests {
    /// Loads a shipped example scenario with its client's path made absolute (tests may run from anywhere).
    private func example(_ name: String) throws -> Scenario {
        try ExampleScenario.load("examples/python-client/" + name)
    }

    @Test(.enabled(if: python != nil, "needs python3"))
    func thePythonExampleClientPassesItsGates() async throws {
        let record = try await ScenarioRunner(scenario: try self.example("scenario.json")).run()
        #expect(
            record.passed,
            "\(record.gates.map(\.summary)) \(record.metrics.clients.map { "\($0.id) \($0.outcome) \($0.process ?? "")" })"
        )
        #expect(record.metrics.clients.count == 6)
        #expect(record.metrics.value(.reconnectAttempts, .count)! > 0, "the restart and the handoff were felt")
        #expect(
            record.metrics.samples(.updateLatency).count == 6 * 30,
            "every message delivered once, timed against its publication"
        )
        #expect(record.lines.contains { $0.contains(#""event":"client_exited""#) && $0.contains(#""early":false"#) })
    }

    @Test(.enabled(if: python != nil, "needs python3"))
    func theBrokenPythonClientFailsTheDuplicateGate() async throws {
        let record = try await ScenarioRunner(scenario: try self.example("scenario-broken.json")).run()
        let verdicts = Dictionary(uniqueKeysWithValues: record.gates.map { ($0.gate.key, $0) })
        #expect(verdicts["duplicate_messages"]?.passed == false)
        #expect((verdicts["duplicate_messages"]?.observed ?? 0) > 0)
        #expect(
            verdicts["completion_rate"]?.passed == true,
            "it still finishes its jobs: only the duplicate gate catches it"
        )
    }

    @Test func malformedOutputEarlyExitsAndHangsAreRecordedNotFatal() async throws {
        let garbage =
            #"echo 'not json'; echo '[1,2]'; echo '{"event":"bogus"}'; echo '{"event":"delivered"}'; echo '{"event":"connect_attempt","attempt":0}'; exec sleep 30"#
        let scenario = try Scenario(
            bytes: Array(
                #"""
                {"name": "misbehaving", "timeScale": 0.1, "duration": "20s",
                 "server": {"job": {"totalItems": 4, "itemInterval": "1s"}},
                 "clients": [
                   {"name": "garbage", "count": 1, "command": ["/bin/sh", "-c", \#(JSONValue.quote(garbage))]},
                   {"name": "quitter", "count": 1, "command": ["/bin/sh", "-c", "echo oops >&2; exit 3"]},
                   {"name": "stubborn", "count": 1, "command": ["/bin/sh", "-c", "trap '' TERM; echo '{\"event\":\"connect_attempt\",\"attempt\":0}'; sleep 30"]},
                   {"name": "missing", "count": 1, "command": ["/nonexistent/client"]}
                 ],
                 "gates": {"client_output_malformed": ["count==0"], "completion_rate": ["rate==1"]}}
                """#.utf8
            )
        )
        let record = try await ScenarioRunner(scenario: scenario).run()
        #expect(!record.interrupted, "the run ends normally")
        let malformed = record.lines.filter { $0.contains(#""event":"client_output_malformed""#) }
        #expect(malformed.count == 4, "\(malformed)")
        for line in 1...4 {
            #expect(malformed.contains { $0.contains(#""line":\#(line),"#) }, "line \(line) is named")
        }
        #expect(malformed.contains { $0.contains("unknown event") && $0.contains("bogus") })
        #expect(malformed.contains { $0.contains("needs an integer") })
        let outcomes = Dictionary(uniqueKeysWithValues: record.metrics.clients.map { ($0.group, $0) })
        #expect(outcomes["garbage"]?.malformedLines == 4)
        #expect(
            outcomes["garbage"]?.process == "still running when the run ended",
            "SIGTERM ended it (children get default signal actions)"
        )
        #expect(outcomes["quitter"]?.outcome == "exited")
        #expect(outcomes["quitter"]?.process?.contains("exit status 3") == true)
        #expect(outcomes["stubborn"]?.process?.contains("killed") == true, "\(outcomes["stubborn"]?.process ?? "nil")")
        #expect(outcomes["missing"]?.outcome == "not started")
        #expect(record.attachments["clients/quitter-1.stderr.log"] == "oops\n")
        let verdicts = Dictionary(uniqueKeysWithValues: record.gates.map { ($0.gate.key, $0) })
        #expect(verdicts["client_output_malformed"]?.observed == 4)
        #expect(verdicts["client_output_malformed"]?.passed == false)
        #expect(verdicts["completion_rate"]?.observed == 0)
        let summary = ReportWriter.summary(record)
        #expect(summary.contains("| quitter-1 | exited |"), "the summary lists the clients to look at: \(summary)")
        #expect(
            summary.contains("| garbage-1 | stopped |") && summary.contains("| 4 | still running when the run ended |"),
            "\(summary)"
        )
    }

    @Test func anExternalServerStartedByCommandIsCheckedThroughTheProxy() async throws {
        let scenario = try Scenario(
            bytes: Array(
                #"""
                {"name": "own-server", "seed": 2, "timeScale": 0.1, "duration": "40s",
                 "server": {"url": "http://127.0.0.1:{port}", "command": [\#(JSONValue.quote(SquallProcess.executablePath)), "serve", "--port", "{port}", "--events"],
                            "readyPath": "/healthz", "job": {"totalItems": 12, "itemInterval": "1s"}},
                 "clients": [{"count": 3}, {"count": 3, "strategy": "broken-no-resume"}],
                 "timeline": [{"at": "4s", "handoff": {"mode": "reset", "blackout": "1s"}}],
                 "gates": {"lost_messages{strategy:resilient}": ["count==0"], "duplicate_messages{strategy:resilient}": ["count==0"],
                           "completion_rate{strategy:resilient}": ["rate==1"],
                           "lost_messages{strategy:broken-no-resume}": ["count==0"], "duplicate_messages{strategy:broken-no-resume}": ["count==0"]}}
                """#.utf8
            )
        )
        let record = try await ScenarioRunner(scenario: scenario).run()
        let verdicts = Dictionary(uniqueKeysWithValues: record.gates.map { ($0.gate.key, $0.passed) })
        #expect(verdicts["lost_messages{strategy:resilient}"] == true)
        #expect(verdicts["duplicate_messages{strategy:resilient}"] == true)
        #expect(verdicts["completion_rate{strategy:resilient}"] == true)
        #expect(
            verdicts["lost_messages{strategy:broken-no-resume}"] == false
                || verdicts["duplicate_messages{strategy:broken-no-resume}"] == false,
            "the broken preset is caught against the external server too: \(record.gates.map(\.summary))"
        )
        let published = record.lines.filter { $0.contains(#""observedVia":"job-state""#) }
        #expect(published.count == 6 * 12, "every job's publications were read back from the job-state endpoint")
        #expect(record.lines.contains { $0.contains(#""event":"server_ready""#) })
        #expect(record.metrics.faultsNotInjected.isEmpty, "the handoff cut connections to the external server")
        #expect(
            record.attachments["server-stdout.log"]?.contains(#""event":"job_created""#) == true,
            "the server's output is kept"
        )
    }

    @Test func anExternalServerThatNeverAnswersFailsToStartWithItsOutput() async throws {
        let silent = try Scenario(
            bytes: Array(
                #"""
                {"name": "silent", "duration": "5s", "server": {"url": "http://127.0.0.1:{port}", "command": ["/bin/sh", "-c", "echo starting; exec sleep 30"], "readyTimeout": "500ms"},
                 "clients": [{"count": 1}]}
                """#.utf8
            )
        )
        let error = await #expect(throws: ScenarioError.self) { try await ScenarioRunner(scenario: silent).run() }
        #expect("\(error!)".contains("did not answer within 500ms"), "\(error!)")
        #expect("\(error!)".contains("starting"), "the server's last output is shown: \(error!)")
        let crashing = try Scenario(
            bytes: Array(
                #"""
                {"name": "crashing", "duration": "5s", "server": {"url": "http://127.0.0.1:{port}", "command": ["/bin/sh", "-c", "echo 'port taken' >&2; exit 2"]},
                 "clients": [{"count": 1}]}
                """#.utf8
            )
        )
        let crash = await #expect(throws: ScenarioError.self) { try await ScenarioRunner(scenario: crashing).run() }
        #expect("\(crash!)".contains("exit status 2"), "\(crash!)")
        #expect("\(crash!)".contains("port taken"), "\(crash!)")
    }

    /// A client whose process group holds a worker that ignores SIGTERM: `(worker) & sleep 20`.
    private func stubbornWorker(_ shell: String, pidFile: String) throws -> Scenario {
        try Scenario(
            bytes: Array(
                #"""
                {"name": "stubborn-worker", "duration": "1s", "server": {"job": {"totalItems": 2, "itemInterval": "100ms"}},
                 "clients": [{"name": "worker", "count": 1, "command": ["/bin/bash", "-c", \#(JSONValue.quote(shell.replacingOccurrences(of: "PIDFILE", with: pidFile)))]}]}
                """#.utf8
            )
        )
    }

    private func alive(_ pidFile: String) throws -> Bool {
        let text = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try #require(Int32(text))
        // A killed worker may stay a zombie until whatever adopted it (pid 1 here) reaps it: that is not alive.
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else {
            return false
        }
        let state = stat.split(separator: ")").last?.split(separator: " ").first
        return state != "Z"
    }

    @Test func aWorkerThatIgnoresSigtermIsKilledWithItsGroupAfterTheGracePeriod() async throws {
        let pidFile = NSTemporaryDirectory() + "squall-worker-\(UUID().uuidString)"
        let scenario = try self.stubbornWorker(
            "(trap '' TERM; exec sleep 20) & echo $! > PIDFILE; sleep 20",
            pidFile: pidFile
        )
        let started = ContinuousClock.now
        let record = try await ScenarioRunner(scenario: scenario).run()
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .seconds(3), "1 s of run, then the 2 s grace the worker ignored: \(elapsed)")
        #expect(elapsed < .seconds(15), "not the worker's 20 s: \(elapsed)")
        let outcome = try #require(record.metrics.clients.first)
        #expect(outcome.process?.contains("killed") == true, "\(outcome.process ?? "nil")")
        // SIGKILL is delivered asynchronously: give the kernel a moment to finish the worker off.
        let gone = try await Eventually.wait(timeout: 2) { try !self.alive(pidFile) }
        #expect(gone, "no orphan: the worker died with its group (\(outcome.process ?? "nil"))")
    }

    @Test func aWorkerLeftBehindByAClientThatExitedIsKilledToo() async throws {
        // The client exits at once; its worker closes its output, ignores SIGTERM and would otherwise be orphaned.
        let pidFile = NSTemporaryDirectory() + "squall-worker-\(UUID().uuidString)"
        let scenario = try self.stubbornWorker(
            "(trap '' TERM; exec sleep 20 >/dev/null 2>&1) & echo $! > PIDFILE; exit 0",
            pidFile: pidFile
        )
        _ = try await ScenarioRunner(scenario: scenario).run()
        let gone = try await Eventually.wait(timeout: 2) { try !self.alive(pidFile) }
        #expect(gone, "no orphan")
    }
}
