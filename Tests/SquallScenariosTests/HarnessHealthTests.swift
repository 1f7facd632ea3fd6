import Foundation
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

    private static func header(gates: String) -> String {
        #"{"time":1000,"source":"run","event":"scenario","name":"h","seed":1,"timeScale":1,"version":"t","scenarioDigest":"x","planDigest":"y","cores":2,"build":"debug","scenario":{"name":"h","duration":"10s","clients":[{"count":1}],"gates":{\#(gates)}}}"#
    }

    /// A 10 s run (log times 1 000 … 11 000) of one client `a` that receives seq 1 of job `j` (published at 1 050,
    /// delivered at 1 060), with a `harness_lag` report at the end of every second: `lags[second]` holds that
    /// second's samples (none: 0.1 ms), `appCpu[second]` what the server under test used.
    private static func log(
        gates: String = #""polling_requests":["count>0"]"#,
        lags: [Int: [Double]] = [:],
        appCpu: [Int: Double] = [:],
        events: [String] = [],
        delivered: Bool = true
    ) -> [String] {
        var lines = [
            Self.header(gates: gates),
            #"{"time":1001,"source":"run","event":"client_started","client":"a","group":"g","strategy":"resilient","jobId":"j"}"#,
            #"{"time":1050,"source":"server","event":"published","jobId":"j","seq":1,"type":"progress"}"#,
        ]
        if delivered {
            lines.append(
                #"{"time":1060,"source":"client","client":"a","event":"delivered","jobId":"j","seq":1,"via":"websocket"}"#
            )
        }
        lines += events
        for second in 1...10 {
            let samples = (lags[second] ?? [0.1]).map { JSONValue.format($0) }.joined(separator: ",")
            let app = appCpu[second].map { #","appCpu":{"server":\#(JSONValue.format($0))},"machineCpu":2"# } ?? ""
            lines.append(
                #"{"time":\#(1_000 + second * 1_000),"source":"run","event":"harness_lag","lagMs":{"executor":[0.1],"loop-0":[\#(samples)]},"writerBacklog":12,"cpu":0.5\#(app)}"#
            )
        }
        lines.append(
            #"{"time":11001,"source":"run","event":"run_ended","reason":"duration reached","interrupted":false}"#
        )
        // Out of time order on purpose: a run is read in time order whatever order its lines were written in.
        return lines
    }

    /// One message of job `j` published at `published` and delivered at `delivered` (log times).
    private static func message(_ seq: Int, published: Int, delivered: Int) -> [String] {
        [
            #"{"time":\#(published),"source":"server","event":"published","jobId":"j","seq":\#(seq),"type":"progress"}"#,
            #"{"time":\#(delivered),"source":"client","client":"a","event":"delivered","jobId":"j","seq":\#(seq),"via":"websocket"}"#,
        ]
    }

    private static let latencyGate = #""update_latency_ms":["max<300"]"#

    @Test func aFailedGateOnAHealthyHarnessFails() throws {
        let record = try RunRecord(lines: Self.log(lags: [3: [0.5, 99.9]]))
        #expect(!record.harness.overloaded)
        #expect(record.harness.lagMax == 99.9)
        #expect(record.verdict == .failed)
    }

    @Test func aFailedSafetyGateFailsEvenOnAnOverloadedHarness() throws {
        // Overloaded the whole run, and a fault that was never applied: `faults_not_injected` is a safety gate, which
        // no slowness of the harness can cause, so the run fails; the late latency inside the overload stays an
        // error of the harness in JUnit.
        let record = try RunRecord(
            lines: Self.log(
                gates: Self.latencyGate,
                lags: Dictionary(uniqueKeysWithValues: (1...10).map { ($0, [150.0]) }),
                events: [
                    #"{"time":1500,"source":"run","event":"fault_not_applied","name":"late","type":"latency","reason":"test"}"#
                ]
                    + Self.message(2, published: 4_000, delivered: 4_500)
            )
        )
        #expect(record.harness.overloaded)
        let failing = record.gates.filter { !$0.passed }.map(\.gate.metric)
        #expect(Set(failing) == [.faultsNotInjected, .updateLatency], "\(failing)")
        #expect(record.verdict == .failed)
        let junit = ReportWriter.junit([record])
        #expect(junit.contains("<failure message=\"observed 1, expected count==0: never injected: late"), "\(junit)")
        #expect(junit.contains(#"<error type="inconclusive""#), "the latency gate is still excused: \(junit)")
        #expect(
            Metric.allCases.filter(\.isSafety).map(\.rawValue).sorted() == [
                "client_output_malformed", "duplicate_messages", "faults_not_injected", "unexpected_messages",
            ]
        )
    }

    @Test func aFailureInsideAnOverloadWindowIsInconclusive() throws {
        // Second 4 (log 4 000 … 5 000) is overloaded; the late message (4 200 → 4 700, 500 ms) lies inside it.
        let record = try RunRecord(
            lines: Self.log(
                gates: Self.latencyGate,
                lags: [4: [0.5, 100.1, 250]],
                events: Self.message(2, published: 4_200, delivered: 4_700)
            )
        )
        #expect(record.harness.overloaded)
        #expect(record.harness.samplesOverBound == 2)
        #expect(record.harness.worstProbe == "loop-0")
        #expect(record.harness.windows.map { [$0.start, $0.end] } == [[4_000, 5_000]])
        #expect(record.verdict == .inconclusive)
        #expect(!record.passed)
        let gate = try #require(record.gates.first { $0.gate.metric == .updateLatency })
        #expect(gate.overload?.decidingSamples == 1)
        #expect(gate.overload?.overlapping == 1)
        #expect(gate.overload?.reason.contains("1 of 1 deciding samples overlapped overload") == true)
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

    @Test func aFailureOutsideEveryOverloadWindowFails() throws {
        // The same late message, but the overload is in second 8: the app failed while the harness kept up.
        let record = try RunRecord(
            lines: Self.log(
                gates: Self.latencyGate,
                lags: [8: [250]],
                events: Self.message(2, published: 4_200, delivered: 4_700)
            )
        )
        #expect(record.harness.overloaded)
        #expect(record.verdict == .failed)
        let gate = try #require(record.gates.first { $0.gate.metric == .updateLatency })
        #expect(gate.overload?.overlapping == 0)
        #expect(gate.overload?.reason.contains("still fails") == true, "\(gate.overload?.reason ?? "")")
        #expect(ReportWriter.junit([record]).contains("<failure"))
    }

    @Test func oneDecidingSampleOutsideTheOverloadFailsTheGate() throws {
        // Two late messages: one inside the overloaded second 4, one in the healthy second 7.
        let record = try RunRecord(
            lines: Self.log(
                gates: Self.latencyGate,
                lags: [4: [250]],
                events: Self.message(2, published: 4_200, delivered: 4_700)
                    + Self.message(3, published: 7_100, delivered: 7_600)
            )
        )
        let gate = try #require(record.gates.first { $0.gate.metric == .updateLatency })
        #expect(gate.overload?.decidingSamples == 2)
        #expect(gate.overload?.overlapping == 1)
        #expect(gate.overload?.cleanValue == 500)
        #expect(record.verdict == .failed)
    }

    @Test func anOverloadTheAppCausedExcusesNothing() throws {
        // The late message lies inside the overloaded second 4, but the server under test used 1.6 of the 2 cores.
        let record = try RunRecord(
            lines: Self.log(
                gates: Self.latencyGate,
                lags: [4: [250]],
                appCpu: [4: 1.6],
                events: Self.message(2, published: 4_200, delivered: 4_700)
            )
        )
        #expect(record.harness.windows.map(\.causedByApp) == [true])
        #expect(record.verdict == .failed)
        let sentence = record.harness.windows[0].appSentence(runStart: record.harness.runStart, cores: 2)
        #expect(sentence == "the server under test used 1.6 of 2 cores from 3 s to 4 s", "\(sentence)")
        #expect(
            record.harness.summary.contains("the server under test used 1.6 of 2 cores"),
            "\(record.harness.summary)"
        )
    }

    @Test func aPassUnderLightOverloadPassesAndUnderHeavyOverloadIsInconclusive() throws {
        let light = try RunRecord(lines: Self.log(lags: [3: [500]], events: [Self.poll(at: 2_000)]))
        #expect(light.harness.overloaded)
        #expect(light.verdict == .passed)
        // Four overloaded seconds of ten: more than a quarter of the run.
        let heavy = try RunRecord(
            lines: Self.log(lags: [2: [500], 3: [500], 4: [500], 5: [500]], events: [Self.poll(at: 2_000)])
        )
        #expect(heavy.verdict == .inconclusive)
        let gate = try #require(heavy.gates.first { $0.gate.metric == .pollingRequests })
        #expect(gate.passed)
        #expect(
            gate.overload?.reason.contains("overloaded for 40% of the run") == true,
            "\(gate.overload?.reason ?? "")"
        )
    }

    @Test func aGateWithoutEvidenceDoesNotPass() throws {
        // The client never received a message: nothing a gate judges happened, so nothing passes on it.
        let healthy = try RunRecord(
            lines: Self.log(gates: #""duplicate_messages":["count==0"]"#, delivered: false)
        )
        let gate = try #require(healthy.gates.first { $0.gate.metric == .duplicateMessages })
        #expect(gate.observed == 0)
        #expect(!gate.passed)
        #expect(gate.missingEvidence == "group g never connected and never received a message")
        #expect(healthy.verdict == .failed)
        // Starved the whole run: the harness may be why nothing arrived.
        let starved = try RunRecord(
            lines: Self.log(
                gates: #""duplicate_messages":["count==0"]"#,
                lags: Dictionary(uniqueKeysWithValues: (1...10).map { ($0, [500.0]) }),
                delivered: false
            )
        )
        #expect(starved.verdict == .inconclusive)
        // A scenario that expects silence says so.
        let silent = try RunRecord(
            lines: Self.log(
                gates: #""duplicate_messages":[{"threshold":"count==0","allowEmpty":true}]"#,
                delivered: false
            )
        )
        #expect(silent.verdict == .passed)
        // A trend with no samples is no pass either.
        let empty = try RunRecord(lines: Self.log(gates: #""time_to_recover_ms":["p(95)<1000"]"#))
        #expect(empty.gates.first { $0.gate.metric == .timeToRecover }?.missingEvidence == "no samples")
        #expect(empty.verdict == .failed)
        let allowed = try RunRecord(
            lines: Self.log(gates: #""time_to_recover_ms":[{"threshold":"p(95)<1000","allowEmpty":true}]"#)
        )
        #expect(allowed.verdict == .passed)
    }

    private static func poll(at time: Int) -> String {
        #"{"time":\#(time),"source":"client","client":"a","event":"poll","jobId":"j","status":200,"messages":0}"#
    }

    @Test func aLogWithoutHarnessSamplesIsJudgedAsBefore() throws {
        var lines = Self.log()
        lines.removeAll { $0.contains("harness_lag") }
        let record = try RunRecord(lines: lines)
        #expect(!record.harness.measured)
        #expect(record.verdict == .failed)
    }

    @Test func squallsMemoryIsJudgedFromTheFirstMinuteOnAndReportedOnlyWhenSampled() throws {
        // Samples every 20 s of a 2-minute run: 40 MB at the start, 55 MB a minute in, 58 MB at the end.
        var lines = [Self.header(gates: #""polling_requests":["count>0"]"#)]
        for (second, megabytes) in [(20, 40.0), (40, 50.0), (60, 55.0), (80, 61.0), (100, 57.0), (120, 58.0)] {
            lines.append(
                #"{"time":\#(1_000 + second * 1_000),"source":"run","event":"harness_lag","lagMs":{"executor":[0.1]},"writerBacklog":0,"cpu":0.5,"rssMB":\#(JSONValue.format(megabytes))}"#
            )
        }
        let record = try RunRecord(lines: lines)
        #expect(record.harness.residentAfterFirstMinute == 55)
        #expect(record.harness.residentAtEnd == 58)
        #expect(record.harness.residentMax == 61)
        #expect(record.harness.summary.contains("memory 55 MB after the first minute, 58 MB at the end"))
        let report = ReportWriter.reportDocument(record)
        guard case .object(let harness)? = report["harness"], case .object(let memory)? = harness["squallMemoryMB"]
        else {
            Issue.record("no squallMemoryMB in \(report)")
            return
        }
        #expect(memory["afterFirstMinute"] == .number(55) && memory["end"] == .number(58))
        // A log without the samples (an older Squall's) reports no memory at all.
        let older = try RunRecord(lines: lines.map { $0.replacingOccurrences(of: #","rssMB""#, with: #","x""#) })
        #expect(older.harness.residentAtEnd == nil)
        guard case .object(let olderHarness)? = ReportWriter.reportDocument(older)["harness"] else { return }
        #expect(olderHarness["squallMemoryMB"] == nil)
    }

    @Test func linesAreOrderedByTimeOnRead() throws {
        var lines = Self.log()
        lines.swapAt(2, 3)
        let record = try RunRecord(lines: lines)
        #expect(record.records.map(\.time) == record.records.map(\.time).sorted())
        #expect(record.lines[2].contains(#""time":1050"#))
    }
}
