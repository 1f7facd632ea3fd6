import SquallFaults
import SquallReports
import SquallScenarios
import Testing

/// The harness's own health: the bound a scenario derives, and the verdict it gives a run, on hand-made inputs.
@Suite struct HarnessHealthTests {
    private func scenario(_ text: String) throws -> Scenario {
        try Scenario(bytes: Array(text.utf8))
    }

    @Test(arguments: [
        // A tenth of the resilient preset's 2 s poll interval at timeScale 0.2 (its shortest timing): 40 ms.
        (#"{"name":"a","timeScale":0.2,"duration":"10s","clients":[{"count":1}]}"#, 40.0, "resilient pollInterval"),
        // At timeScale 1 a tenth of 2 s is 200 ms: the ceiling applies.
        (#"{"name":"a","duration":"10s","clients":[{"count":1}]}"#, 100.0, "ceiling"),
        // At timeScale 0.01 a tenth of 20 ms is 2 ms: the floor applies.
        (#"{"name":"a","timeScale":0.01,"duration":"10s","clients":[{"count":1}]}"#, 10.0, "floor"),
        // A latency gate is a timing too: p(95)<300 at timeScale 1 → 30 ms.
        (
            #"{"name":"a","duration":"10s","clients":[{"count":1}],"gates":{"update_latency_ms":["p(95)<300"]}}"#, 30.0,
            "gate update_latency_ms"
        ),
        // An override shortens the poll interval: 500 ms × 1 → 50 ms.
        (
            #"{"name":"a","duration":"10s","clients":[{"count":1,"overrides":{"pollInterval":"500ms"}}]}"#, 50.0,
            "pollInterval"
        ),
        // The server's ping interval, when it is the shortest: 300 ms → 30 ms.
        (
            #"{"name":"a","duration":"10s","server":{"pingInterval":"300ms","pongTimeout":"1s"},"clients":[{"count":1}]}"#,
            30.0, "server pingInterval"
        ),
        // Nothing Squall knows the timing of (an external client against an external server): the ceiling.
        (
            #"{"name":"a","duration":"10s","server":{"url":"http://127.0.0.1:9"},"clients":[{"count":1,"command":["true"]}]}"#,
            100.0, "no timing"
        ),
    ])
    func theBoundIsATenthOfTheShortestTimingWithinFloorAndCeiling(
        text: String,
        milliseconds: Double,
        reason: String
    ) throws {
        let bound = HarnessBound(try self.scenario(text))
        #expect(bound.milliseconds == milliseconds, "\(bound.reason)")
        #expect(bound.reason.contains(reason), "\(bound.reason)")
    }

    private static let header =
        #"{"time":1000,"source":"run","event":"scenario","name":"h","seed":1,"timeScale":1,"version":"t","scenarioDigest":"x","planDigest":"y","cores":2,"build":"debug","scenario":{"name":"h","duration":"10s","clients":[{"count":1}],"gates":{"polling_requests":["count>0"]}}}"#

    private static func log(lags: [Double], polls: Int) -> [String] {
        var lines = [
            Self.header,
            #"{"time":1001,"source":"run","event":"client_started","client":"a","group":"g","strategy":"resilient","jobId":"j"}"#,
        ]
        for index in 0..<polls {
            lines.append(
                #"{"time":\#(1100 + index),"source":"client","client":"a","event":"poll","jobId":"j","status":200,"messages":0}"#
            )
        }
        let samples = lags.map { JSONValue.format($0) }.joined(separator: ",")
        lines.append(
            #"{"time":2000,"source":"run","event":"harness_lag","lagMs":{"executor":[0.1,0.2],"loop-0":[\#(samples)]},"writerBacklog":12,"cpu":1.5}"#
        )
        lines.append(
            #"{"time":9000,"source":"run","event":"run_ended","reason":"duration reached","interrupted":false}"#
        )
        return lines
    }

    @Test func aFailedGateOnAHealthyHarnessFails() throws {
        let record = try RunRecord(lines: Self.log(lags: [0.5, 99.9], polls: 0))
        #expect(!record.harness.overloaded)
        #expect(record.harness.lagMax == 99.9)
        #expect(record.verdict == .failed)
    }

    @Test func aFailedSafetyGateFailsEvenOnAnOverloadedHarness() throws {
        // The same starved log, plus a fault that was never applied: `faults_not_injected` is a safety gate, which
        // no slowness of the harness can cause, so the run fails; the timing-free `polling_requests` gate that also
        // failed stays an error of the harness in JUnit.
        var lines = Self.log(lags: [0.5, 100.1, 250], polls: 0)
        lines.insert(
            #"{"time":1500,"source":"run","event":"fault_not_applied","name":"late","type":"latency","reason":"test"}"#,
            at: 2
        )
        let record = try RunRecord(lines: lines)
        #expect(record.harness.overloaded)
        let failing = record.gates.filter { !$0.passed }.map(\.gate.metric)
        #expect(Set(failing) == [.faultsNotInjected, .pollingRequests], "\(failing)")
        #expect(record.verdict == .failed)
        let junit = ReportWriter.junit([record])
        #expect(junit.contains("<failure message=\"observed 1, expected count==0: never injected: late"), "\(junit)")
        #expect(junit.contains(#"<error type="inconclusive""#), "the polling gate is still excused: \(junit)")
        #expect(
            Metric.allCases.filter(\.isSafety).map(\.rawValue).sorted() == [
                "client_output_malformed", "duplicate_messages", "faults_not_injected", "unexpected_messages",
            ]
        )
    }

    @Test func aFailedGateOnAnOverloadedHarnessIsInconclusive() throws {
        let record = try RunRecord(lines: Self.log(lags: [0.5, 100.1, 250], polls: 0))
        #expect(record.harness.overloaded)
        #expect(record.harness.samplesOverBound == 2)
        #expect(record.harness.worstProbe == "loop-0")
        #expect(record.verdict == .inconclusive)
        #expect(!record.passed)
        #expect(record.harness.summary.contains("OVERLOADED"), "\(record.harness.summary)")
        #expect(record.harness.advice.contains("release build"), "a debug build is named as the first thing to change")
        let junit = ReportWriter.junit([record])
        #expect(junit.contains(#"<error type="inconclusive""#), "\(junit)")
        #expect(
            !junit.contains("<failure"),
            "an inconclusive gate is an error of the harness, not a failure of the app"
        )
        let summary = ReportWriter.summary(record)
        #expect(summary.contains("# h: INCONCLUSIVE"))
        #expect(summary.contains("To get one:"))
        #expect(ReportWriter.reportDocument(record)["verdict"] == .string("inconclusive"))
    }

    @Test func passingGatesPassEvenOnAnOverloadedHarness() throws {
        let record = try RunRecord(lines: Self.log(lags: [500], polls: 3))
        #expect(record.harness.overloaded)
        #expect(record.verdict == .passed)
    }

    @Test func aLogWithoutHarnessSamplesIsJudgedAsBefore() throws {
        var lines = Self.log(lags: [], polls: 0)
        lines.removeAll { $0.contains("harness_lag") }
        let record = try RunRecord(lines: lines)
        #expect(!record.harness.measured)
        #expect(record.verdict == .failed)
    }

    @Test func linesAreOrderedByTimeOnRead() throws {
        var lines = Self.log(lags: [1], polls: 2)
        lines.swapAt(2, 3)
        let record = try RunRecord(lines: lines)
        #expect(record.records.map(\.time) == record.records.map(\.time).sorted())
        #expect(record.lines[2].contains(#""time":1100"#))
    }
}
