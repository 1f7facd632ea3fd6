import Foundation
import SquallFaults
import SquallReports
import SquallScenarios
import SquallSession
import Testing

/// How a session's outcomes combine into one exit code and one `junit.xml`, tested without the binary.
@Suite struct SessionResultsTests {
    /// A finished run whose one gate (`polling_requests count>0`) passes or fails, from a hand-made log.
    private static func record(name: String, polls: Int, interrupted: Bool = false) throws -> RunRecord {
        var lines = [
            #"{"time":1000,"source":"run","event":"scenario","name":"\#(name)","seed":1,"timeScale":1,"version":"t","scenarioDigest":"x","planDigest":"y","scenario":{"name":"\#(name)","duration":"10s","clients":[{"count":1}],"gates":{"polling_requests":["count>0"]}}}"#,
            #"{"time":1001,"source":"run","event":"client_started","client":"a","group":"g","strategy":"resilient","jobId":"j"}"#,
            #"{"time":1050,"source":"server","event":"published","jobId":"j","seq":1,"type":"progress"}"#,
            #"{"time":1060,"source":"client","client":"a","event":"delivered","jobId":"j","seq":1,"via":"polling"}"#,
        ]
        for index in 0..<polls {
            lines.append(
                #"{"time":\#(1_100 + index),"source":"client","client":"a","event":"poll","jobId":"j","status":200,"messages":0}"#
            )
        }
        lines.append(
            #"{"time":9000,"source":"run","event":"run_ended","reason":"duration reached","interrupted":\#(interrupted)}"#
        )
        return try RunRecord(lines: lines)
    }

    @Test func aRefusedScenarioIsAVerdictThatNeverHidesAFailure() throws {
        let failed = ScenarioOutcome.ran(try Self.record(name: "a", polls: 0), folder: "a")
        let passed = ScenarioOutcome.ran(try Self.record(name: "b", polls: 2), folder: "b")
        let refused = ScenarioOutcome.refused(scenario: "crowd", reason: "200 clients need about 1456 descriptors")
        var results = SessionResults()
        results.outcomes = [passed]
        #expect(results.exit == .success)
        results.outcomes = [passed, refused]
        #expect(results.exit == .inconclusive, "a refused scenario is no pass")
        results.outcomes = [failed, refused]
        #expect(results.exit == .gateFailed, "a definite failure outranks a run that could not judge")
        results.outcomes = [refused, failed]
        #expect(results.exit == .gateFailed, "whatever the order")
        let interrupted = ScenarioOutcome.ran(try Self.record(name: "c", polls: 2, interrupted: true), folder: "c")
        results.outcomes = [failed, interrupted]
        #expect(results.exit == .interrupted)
        #expect(SquallExit.allCases.map(\.rawValue) == [0, 64, 65, 70, 75, 99, 130])
    }

    @Test func aShardIsJudgedOnlyOnWhatIsItsOwn() throws {
        var results = SessionResults()
        results.outcomes = [.ran(try Self.record(name: "a", polls: 0), folder: "a")]
        #expect(results.shardExit == .success, "its gates are judged on the merged run")
        results.outcomes.append(.refused(scenario: "crowd", reason: "too many"))
        #expect(results.shardExit == .inconclusive)
        results.outcomes.append(.ran(try Self.record(name: "c", polls: 2, interrupted: true), folder: "c"))
        #expect(results.shardExit == .interrupted)
    }

    @Test func theCombinedJUnitHoldsEveryRunAndEveryRefusal() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("squall-session-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try ScenarioSession.writeCombinedJUnit(
            [
                .ran(try Self.record(name: "first", polls: 0), folder: "x"),
                .refused(scenario: "crowd", reason: "200 clients need about 1456 file descriptors"),
            ],
            output: output
        )
        let junit = try String(contentsOfFile: output + "/junit.xml", encoding: .utf8)
        #expect(junit.contains(#"<testsuites name="squall" tests="3" failures="1" errors="1">"#), "\(junit)")
        #expect(junit.contains(#"<testsuite name="crowd" tests="1" failures="0" errors="1""#), "\(junit)")
        #expect(junit.contains(#"<error type="refused" message="not run, inconclusive: 200 clients need"#), "\(junit)")
        #expect(junit.contains("polling_requests count&gt;0"), "\(junit)")
    }

    @Test func aSessionRunsEveryScenarioAndCollectsTheirVerdicts() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("squall-session-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        func scenario(_ name: String, gate: String) throws -> Scenario {
            try Scenario(
                bytes: Array(
                    #"{"name": "\#(name)", "timeScale": 0.05, "duration": "20s", "server": {"job": {"totalItems": 4, "itemInterval": "500ms"}}, "clients": [{"count": 2}], "gates": {\#(gate)}}"#
                        .utf8
                )
            )
        }
        let session = ScenarioSession(output: output, quiet: true, command: "test", signals: ShutdownSignal())
        let results = try await session.runAll([
            ("a.json", try scenario("fails", gate: #""polling_requests": ["count>0"]"#)),
            ("b.json", try scenario("passes", gate: #""completion_rate": ["rate==1"]"#)),
        ])
        #expect(results.outcomes.map(\.verdict) == [.failed, .passed])
        #expect(results.exit == .gateFailed)
        #expect(results.failing.map(\.name) == ["fails"])
        let junit = try String(contentsOfFile: output + "/junit.xml", encoding: .utf8)
        #expect(junit.contains(#"<testsuite name="fails""#) && junit.contains(#"<testsuite name="passes""#))
    }
}
