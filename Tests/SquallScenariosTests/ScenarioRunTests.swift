import Foundation
import SquallFaults
import SquallReports
import SquallScenarios
import Testing

/// Whole scenarios run in-process over loopback: gates pass for a sound client and fail for broken ones.
@Suite(.serialized) struct ScenarioRunTests {
    private func run(_ text: String) async throws -> RunRecord {
        try await ScenarioRunner(scenario: try Scenario(bytes: Array(text.utf8))).run()
    }

    private func restart(strategy: String, gates: String) -> String {
        #"""
        {"name": "restart-\#(strategy)", "seed": 3, "timeScale": 0.05, "duration": "40s",
         "server": {"job": {"totalItems": 40, "itemInterval": "500ms"}},
         "clients": [{"count": 4, "strategy": "\#(strategy)"}],
         "timeline": [{"at": "8s", "for": "3s", "action": "server_restart"}],
         "gates": \#(gates)}
        """#
    }

    @Test func aSoundClientPassesAndTheRecordRechecksIdentically() async throws {
        let record = try await self.run(
            self.restart(
                strategy: "resilient",
                gates:
                    #"{"duplicate_messages": ["count==0"], "lost_messages": ["count==0"], "completion_rate": ["rate==1"]}"#
            )
        )
        #expect(record.passed, "\(record.gates.map(\.summary))")
        #expect(record.metrics.value(.reconnectAttempts, .count)! > 0, "the restart was felt")
        let recheck = try RunRecord(lines: record.lines)
        #expect(recheck.gates == record.gates, "re-checking the stored log gives the identical verdicts")
        #expect(recheck.metrics == record.metrics)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("squall-report-\(UUID().uuidString)")
            .path
        try ReportWriter.write(record, to: folder)
        for name in ["events.ndjson", "report.json", "junit.xml", "summary.md", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + name), "\(name)")
        }
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        #expect(html.contains("<svg"), "charts are inline SVG")
        let downtime = try #require(html.range(of: "<title>server restart downtime</title>"), "the restart is shaded")
        let lane = try #require(html.range(of: "fill=\"#43a047\""), "a WebSocket lane")
        #expect(lane.lowerBound < downtime.lowerBound, "the shading is drawn over the lanes, not hidden behind them")
        #expect(!html.contains("<script"), "self-contained, no scripts")
        // Clients by state: a WebSocket layer and a reconnecting layer (the restart sent everyone reconnecting).
        #expect(html.contains("fill=\"#43a047\"><title>websocket</title></polygon>"))
        #expect(html.contains("fill=\"#fb8c00\"><title>connecting</title></polygon>"))
        // Attempts per second: the busiest second is the one the metric names.
        let peak = try #require(record.metrics.peak(.connectRatePeak))
        #expect(html.contains("\(Int(peak.at / 1_000)) s: \(peak.count) connect attempts (peak)</title>"))
        // Latency as a CDF next to the histogram, with its percentiles marked.
        #expect(html.contains("<title>share of deliveries at or below a latency</title>"))
        let p95 = try #require(record.metrics.value(.updateLatency, .percentile(95)))
        #expect(html.contains("<title>p(95) \(MetricText.format(p95)) ms</title>"))
    }

    @Test func brokenNoDedupFailsTheDuplicateGate() async throws {
        let record = try await self.run(
            self.restart(strategy: "broken-no-dedup", gates: #"{"duplicate_messages": ["count==0"]}"#)
        )
        let gate = try #require(record.gates.first { $0.gate.metric == .duplicateMessages })
        #expect(!gate.passed)
        #expect((gate.observed ?? 0) > 0)
        #expect(!record.harness.overloaded, "\(record.harness.summary)")
        #expect(record.verdict == .failed, "a healthy harness: the broken client is to blame")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("squall-report-\(UUID().uuidString)")
            .path
        try ReportWriter.write(record, to: folder)
        let junit = try String(contentsOfFile: folder + "/junit.xml", encoding: .utf8)
        #expect(
            junit.contains("<failure message=\"observed \(MetricText.format(gate.observed!)), expected count==0\""),
            "\(junit)"
        )
        // The reports name the clients that failed the gate, each with its own short timeline.
        let duplicated = record.metrics.clients.filter { $0.duplicates > 0 }.map(\.id)
        #expect(!duplicated.isEmpty)
        let summary = try String(contentsOfFile: folder + "/summary.md", encoding: .utf8)
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        #expect(summary.contains("### Clients that failed `duplicate_messages` `count==0`"), "\(summary)")
        for id in duplicated {
            #expect(summary.contains("- **\(id)** ("), "\(id) in: \(summary)")
            #expect(html.contains("<li><b>\(id)</b> ("), "\(id) in the HTML")
        }
        let clean = record.metrics.clients.filter { $0.duplicates == 0 }.map(\.id)
        for id in clean { #expect(!summary.contains("- **\(id)** ("), "\(id) did not fail the gate") }
        #expect(summary.contains("s connected #"), "a timeline with the client's events: \(summary)")
        #expect(summary.contains("again via"), "and the duplicate delivery itself: \(summary)")
    }

    @Test func theSameBrokenClientOnAStarvedHarnessStillFailsItsSafetyGate() async throws {
        // A duplicate delivery is the client's bug whatever the harness did: a safety gate is never excused
        // (issue 29: this run used to be inconclusive).
        var runner = ScenarioRunner(
            scenario: try Scenario(
                bytes: Array(
                    self.restart(strategy: "broken-no-dedup", gates: #"{"duplicate_messages": ["count==0"]}"#).utf8
                )
            )
        )
        runner.harnessStall = .milliseconds(300)
        let record = try await runner.run()
        #expect(
            record.gates.contains { !$0.passed && $0.gate.metric == .duplicateMessages },
            "the gate is still computed"
        )
        #expect(record.harness.overloaded)
        #expect((record.harness.lagMax ?? 0) >= 250, "the stall shows as lag: \(record.harness.summary)")
        #expect(record.verdict == .failed)
        let junit = ReportWriter.junit([record])
        #expect(junit.contains("<failure message=\"observed"), "a failure of the app, not an error of the harness")
    }

    @Test func brokenNoResumeFailsTheLossOrDuplicateGate() async throws {
        let record = try await self.run(
            self.restart(
                strategy: "broken-no-resume",
                gates: #"{"duplicate_messages": ["count==0"], "lost_messages": ["count==0"]}"#
            )
        )
        #expect(!record.passed)
        #expect(
            record.gates.contains {
                !$0.passed && ($0.gate.metric == .duplicateMessages || $0.gate.metric == .lostMessages)
            }
        )
    }

    @Test func theScannerPresetFailsTheFallbackGateUnderFlapping() async throws {
        let record = try await self.run(
            #"""
            {"name": "flap", "seed": 4, "timeScale": 0.05, "duration": "40s",
             "server": {"job": {"totalItems": 30, "itemInterval": "500ms"}},
             "clients": [{"count": 4, "strategy": "resilient"}, {"count": 4, "strategy": "booktrack-scanner"}],
             "timeline": [{"at": "3s", "every": "8s", "handoff": {"mode": "reset", "blackout": "1s"}}],
             "gates": {"fallback_rate{strategy:resilient}": ["rate<0.05"], "fallback_rate{strategy:booktrack-scanner}": ["rate<0.05"]}}
            """#
        )
        let verdicts = Dictionary(uniqueKeysWithValues: record.gates.map { ($0.gate.key, $0) })
        #expect(verdicts["fallback_rate{strategy:resilient}"]?.passed == true)
        #expect(verdicts["fallback_rate{strategy:booktrack-scanner}"]?.passed == false)
        #expect(verdicts["fallback_rate{strategy:booktrack-scanner}"]?.observed == 1)
    }

    @Test func timeToFallbackSeparatesAClientThatGivesUpOnWebSocketFromOneThatKeepsRetrying() async throws {
        // Every upgrade is rejected from before the clients start (the fault is left at the default stream: a request
        // fault acts upstream whatever it says). The scanner preset tries WebSocket once and
        // polls; the resilient preset told to retry 4 times backs off 1 + 2 + 4 + 8 s (± 20 %) first.
        let record = try await self.run(
            #"""
            {"name": "ttf", "seed": 2, "timeScale": 0.05, "duration": "60s",
             "server": {"job": {"totalItems": 10, "itemInterval": "1s"}},
             "clients": [{"name": "quick", "count": 2, "strategy": "booktrack-scanner", "startAt": "2s"},
                         {"name": "stubborn", "count": 2, "strategy": "resilient", "startAt": "2s",
                          "overrides": {"reconnectAttempts": 4}}],
             "timeline": [{"at": "0s", "fault": {"type": "block_upgrade", "attributes": {"mode": "reject"}}}],
             "gates": {"time_to_fallback_ms{group:quick}": ["p(95)<5000"],
                       "time_to_fallback_ms{group:stubborn}": ["p(95)<5000"]}}
            """#
        )
        let quick = record.metrics.samples(.timeToFallback, tags: ["group": "quick"])
        let stubborn = record.metrics.samples(.timeToFallback, tags: ["group": "stubborn"])
        #expect(quick.count == 2, "\(quick)")
        #expect(stubborn.count == 2, "\(stubborn)")
        #expect(quick.allSatisfy { $0 < 5_000 }, "\(quick)")
        #expect(stubborn.allSatisfy { $0 >= 12_000 }, "the backoff alone is at least 0.8 × 15 s: \(stubborn)")
        let verdicts = Dictionary(uniqueKeysWithValues: record.gates.map { ($0.gate.key, $0.passed) })
        #expect(verdicts["time_to_fallback_ms{group:quick}"] == true)
        #expect(verdicts["time_to_fallback_ms{group:stubborn}"] == false)
    }

    @Test func aClientThatNeverLeavesPollingIsStuckAndOneThatProbesIsNot() async throws {
        // Upgrades are rejected for the first 10 s, then allowed. The scanner preset never probes WebSocket again;
        // the resilient preset probes every 30 s. The job outlasts the run, so nobody finishes while polling.
        let record = try await self.run(
            #"""
            {"name": "sticky", "seed": 4, "timeScale": 0.05, "duration": "60s",
             "server": {"job": {"totalItems": 200, "itemInterval": "1s"}},
             "clients": [{"name": "scanner", "count": 2, "strategy": "booktrack-scanner", "startAt": "1s"},
                         {"name": "prober", "count": 2, "strategy": "resilient", "startAt": "1s",
                          "overrides": {"reconnectAttempts": 0}}],
             "timeline": [{"at": "0s", "for": "10s", "fault": {"type": "block_upgrade", "attributes": {"mode": "reject"}}}],
             "gates": {"stuck_on_polling_rate{group:scanner}": ["rate==0"],
                       "stuck_on_polling_rate{group:prober}": ["rate==0"]}}
            """#
        )
        let metrics = record.metrics
        #expect(metrics.value(.stuckOnPollingRate, .rate, tags: ["group": "scanner"]) == 1)
        #expect(metrics.value(.stuckOnPollingRate, .rate, tags: ["group": "prober"]) == 0)
        let back = metrics.samples(.timeOnPollingAfterRecovery, tags: ["group": "prober"])
        #expect(back.count == 2, "\(back)")
        #expect(back.allSatisfy { $0 > 0 && $0 <= 31_000 }, "back within a probe interval of the lift: \(back)")
        let verdicts = Dictionary(uniqueKeysWithValues: record.gates.map { ($0.gate.key, $0.passed) })
        #expect(verdicts["stuck_on_polling_rate{group:scanner}"] == false)
        #expect(verdicts["stuck_on_polling_rate{group:prober}"] == true)
    }

    @Test func aStepsExpectationsPassForAClientThatReturnsAndFailForOneThatNeverDoes() async throws {
        // At 3 s every socket is reset and upgrades are rejected for 10 s, one fault per group. Both presets poll at
        // once; after the lift the resilient one probes WebSocket within 30 s, the scanner never does.
        let record = try await self.run(
            #"""
            {"name": "expect", "seed": 4, "timeScale": 0.05, "duration": "60s",
             "server": {"job": {"totalItems": 200, "itemInterval": "1s"}},
             "clients": [{"name": "scanner", "count": 2, "strategy": "booktrack-scanner", "startAt": "1s"},
                         {"name": "prober", "count": 2, "strategy": "resilient", "startAt": "1s",
                          "overrides": {"reconnectAttempts": 0}}],
             "timeline": [
               {"at": "3s", "for": "10s", "target": {"group": "scanner"},
                "fault": {"name": "wall-scanner", "type": "block_upgrade", "attributes": {"mode": "reject"}},
                "expect": {"recoveredWithin": "35s", "fellBackWithin": "10s", "noLoss": true}},
               {"at": "3s", "for": "10s", "target": {"group": "prober"},
                "fault": {"name": "wall-prober", "type": "block_upgrade", "attributes": {"mode": "reject"}},
                "expect": {"recoveredWithin": "35s", "fellBackWithin": "10s", "noLoss": true}},
               {"at": "3s", "handoff": {"mode": "reset"}}]}
            """#
        )
        let verdicts = Dictionary(uniqueKeysWithValues: record.gates.map { ($0.gate.key, $0) })
        #expect(verdicts["step_recovery_ms{step:wall-prober}"]?.passed == true)
        #expect(verdicts["step_recovery_ms{step:wall-scanner}"]?.passed == false)
        #expect(verdicts["step_recovery_ms{step:wall-scanner}"]?.observed == .infinity)
        #expect(verdicts["step_fallback_ms{step:wall-scanner}"]?.passed == true)
        #expect(verdicts["step_fallback_ms{step:wall-prober}"]?.passed == true)
        #expect(verdicts["step_lost_messages{step:wall-scanner}"]?.passed == true)
        #expect(verdicts["step_lost_messages{step:wall-prober}"]?.passed == true)
        let back = record.metrics.samples(.stepRecovery, tags: ["step": "wall-prober"])
        #expect(back.count == 2 && back.allSatisfy { $0 > 0 && $0 <= 31_000 }, "\(back)")
        #expect(record.verdict == .failed)
        // The failing gate's clients are listed with their timelines, and "never" is written as such.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("squall-expect-\(UUID().uuidString)")
            .path
        try ReportWriter.write(record, to: folder)
        let summary = try String(contentsOfFile: folder + "/summary.md", encoding: .utf8)
        #expect(summary.contains("Clients that failed `step_recovery_ms{step:wall-scanner}`"), "\(summary)")
        #expect(summary.contains("scanner-1") && !summary.contains("**prober-1**"), "\(summary)")
        #expect(summary.contains("| never |"), "\(summary)")
        let json = try String(contentsOfFile: folder + "/report.json", encoding: .utf8)
        #expect(json.replacingOccurrences(of: " ", with: "").contains("\"never\":true"))
    }

    @Test func theSameSeedTargetsTheSameClientsInEveryRun() async throws {
        // Every client reconnects at once after the handoff; the fault refuses half of them (picked by seed) until
        // it is lifted. Only those clients may see a connection fail, and the same ones in both runs.
        let text = #"""
            {"name": "targeted", "seed": 5, "timeScale": 0.05, "duration": "30s",
             "server": {"job": {"totalItems": 40, "itemInterval": "500ms"}},
             "clients": [{"count": 8, "strategy": "resilient"}],
             "timeline": [{"at": "5s", "for": "10s", "fault": {"name": "cut", "type": "refuse"}, "target": {"clients": 0.5}},
                          {"at": "6s", "handoff": {"mode": "reset"}}]}
            """#
        let plan = try PlannedTimeline(try Scenario(bytes: Array(text.utf8)))
        guard
            case .applyFault(let fault)? = plan.steps.first(where: {
                if case .applyFault = $0.kind { true } else { false }
            })?.kind,
            let picked = fault.clients
        else {
            Issue.record("the plan holds no client-targeted fault: \(plan.canonicalText)")
            return
        }
        #expect(picked.count == 4)
        var failedByRun: [Set<String>] = []
        for _ in 0..<2 {
            let record = try await self.run(text)
            var failed = Set<String>()
            for line in record.lines {
                guard let event = try? JSONValue.parse(Array(line.utf8)),
                    event["event"]?.stringValue == "connect_failed", let client = event["client"]?.stringValue
                else { continue }
                failed.insert(client)
            }
            failedByRun.append(failed)
        }
        #expect(failedByRun[0] == picked, "the refused clients are the picked ones")
        #expect(failedByRun[1] == picked, "and the same ones again")
    }

    @Test func aFaultOnAGroupWithNoTrafficIsFlaggedNotInjected() async throws {
        let record = try await self.run(
            #"""
            {"name": "idle-fault", "timeScale": 0.05, "duration": "10s",
             "server": {"job": {"totalItems": 4, "itemInterval": "500ms"}},
             "clients": [{"name": "early", "count": 2}, {"name": "late", "count": 1, "startAt": "9s"}],
             "timeline": [{"at": "1s", "for": "2s", "target": {"group": "late"}, "fault": {"name": "unused", "type": "latency", "attributes": {"latency": 100}}}]}
            """#
        )
        #expect(record.metrics.faultsNotInjected == ["unused"])
        #expect(!record.passed)
    }
}

/// The number format reports use.
enum MetricText {
    static func format(_ value: Double) -> String {
        JSONValue.format((value * 1_000).rounded() / 1_000)
    }
}
