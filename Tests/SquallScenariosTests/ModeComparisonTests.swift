import SquallFaults
import SquallReports
import SquallScenarios
import Testing

/// `squall sim --compare`'s judgement on hand-made runs: what must be equal, what may differ by the tolerance, and a
/// deliberately mis-modelled run it catches.
@Suite struct ModeComparisonTests {
    /// A run of one client whose `messages` are published every 100 ms from 1 100 and each delivered `latency` ms
    /// later (`lost` of them never), in `mode`.
    private static func record(
        mode: String,
        latency: Int,
        lost: Int = 0,
        gate: String = "p(95)<1000"
    ) throws
        -> RunRecord
    {
        var lines = [
            #"{"time":1000,"source":"run","event":"scenario","name":"c","seed":1,"timeScale":1,"version":"t","scenarioDigest":"x","planDigest":"y","mode":"\#(mode)","scenario":{"name":"c","duration":"10s","clients":[{"count":1}],"gates":{"update_latency_ms":["\#(gate)"]}}}"#,
            #"{"time":1000,"source":"run","event":"client_started","client":"a","group":"g","strategy":"resilient","jobId":"j"}"#,
        ]
        for seq in 1...10 {
            let published = 1_000 + seq * 100
            lines.append(
                #"{"time":\#(published),"source":"server","event":"published","jobId":"j","seq":\#(seq),"type":"progress"}"#
            )
            guard seq > lost else { continue }
            lines.append(
                #"{"time":\#(published + latency),"source":"client","client":"a","event":"delivered","jobId":"j","seq":\#(seq),"via":"websocket"}"#
            )
        }
        lines.append(
            #"{"time":9000,"source":"client","client":"a","event":"finished","jobId":"j","outcome":"completed"}"#
        )
        lines.append(
            #"{"time":9001,"source":"run","event":"run_ended","reason":"duration reached","interrupted":false}"#
        )
        return try RunRecord(lines: lines)
    }

    @Test func runsThatBehaveAlikeAgree() throws {
        // 40 ms apart is within the tolerance (100 ms plus a tenth).
        let comparison = ModeComparison(
            real: try Self.record(mode: "real", latency: 240),
            simulated: try Self.record(mode: "sim", latency: 200)
        )
        #expect(comparison.agrees, "\(comparison.table)")
    }

    @Test func aMisModelledFaultIsCaught() throws {
        // The simulator delivers 300 ms sooner than the sockets did: beyond 100 ms + 10 % of 500.
        let late = ModeComparison(
            real: try Self.record(mode: "real", latency: 500),
            simulated: try Self.record(mode: "sim", latency: 200)
        )
        #expect(!late.agrees)
        #expect(late.rows.first { $0.subject == "update_latency_ms med" }?.agrees == false, "\(late.table)")
        // An outcome metric must be equal: one lost message is a difference.
        let lossy = ModeComparison(
            real: try Self.record(mode: "real", latency: 200, lost: 1),
            simulated: try Self.record(mode: "sim", latency: 200)
        )
        #expect(lossy.rows.first { $0.subject == "lost_messages" }?.agrees == false, "\(lossy.table)")
        // A gate's verdict must be equal.
        let verdict = ModeComparison(
            real: try Self.record(mode: "real", latency: 600, gate: "max<500"),
            simulated: try Self.record(mode: "sim", latency: 450, gate: "max<500")
        )
        #expect(verdict.rows.first { $0.subject.hasPrefix("gate update_latency_ms") }?.agrees == false)
    }

    @Test func countsMayDifferByAMessagePerCut() throws {
        // One cut in each run (the client finished, so no loss grace): a message at the cut may land on either side,
        // so one lost message is within it; two are not.
        func cut(_ record: RunRecord) throws -> RunRecord {
            var lines = record.lines
            lines.insert(
                #"{"time":1450,"source":"client","client":"a","event":"closed","jobId":"j","code":1006,"reason":"connection lost"}"#,
                at: 5
            )
            return try RunRecord(lines: lines)
        }
        let oneLost = ModeComparison(
            real: try cut(try Self.record(mode: "real", latency: 200, lost: 1)),
            simulated: try cut(try Self.record(mode: "sim", latency: 200))
        )
        #expect(oneLost.rows.first { $0.subject.hasPrefix("lost_messages") }?.agrees == true, "\(oneLost.table)")
        let twoLost = ModeComparison(
            real: try cut(try Self.record(mode: "real", latency: 200, lost: 2)),
            simulated: try cut(try Self.record(mode: "sim", latency: 200))
        )
        #expect(twoLost.rows.first { $0.subject.hasPrefix("lost_messages") }?.agrees == false, "\(twoLost.table)")
    }

    /// A one-client event-stream run: the stream opens, delivers 1 and 2, is lost, and reopens from `lastSeq`.
    private static func eventStreamRecord(mode: String, reopenedFrom lastSeq: Int) throws -> RunRecord {
        try RunRecord(lines: [
            #"{"time":1000,"source":"run","event":"scenario","name":"s","seed":1,"timeScale":1,"version":"t","scenarioDigest":"x","planDigest":"y","mode":"\#(mode)","scenario":{"name":"s","duration":"10s","clients":[{"count":1}],"gates":{"duplicate_messages":["count==0"]}}}"#,
            #"{"time":1000,"source":"run","event":"client_started","client":"a","group":"g","strategy":"resilient-sse","jobId":"j"}"#,
            #"{"time":1001,"source":"server","event":"sse_opened","jobId":"j","lastSeq":0}"#,
            #"{"time":1002,"source":"client","client":"a","event":"connected","jobId":"j","attempt":0,"probe":false,"via":"sse"}"#,
            #"{"time":1010,"source":"server","event":"published","jobId":"j","seq":1,"type":"progress"}"#,
            #"{"time":1011,"source":"client","client":"a","event":"delivered","jobId":"j","seq":1,"via":"sse"}"#,
            #"{"time":1020,"source":"server","event":"published","jobId":"j","seq":2,"type":"complete"}"#,
            #"{"time":1021,"source":"client","client":"a","event":"delivered","jobId":"j","seq":2,"via":"sse"}"#,
            #"{"time":1030,"source":"server","event":"sse_opened","jobId":"j","lastSeq":\#(lastSeq)}"#,
            #"{"time":1040,"source":"client","client":"a","event":"finished","jobId":"j","outcome":"completed"}"#,
            #"{"time":1041,"source":"run","event":"run_ended","reason":"duration reached","interrupted":false}"#,
        ])
    }

    @Test func eventStreamRunsAlsoCompareTheirResumes() throws {
        let alike = ModeComparison(
            real: try Self.eventStreamRecord(mode: "real", reopenedFrom: 2),
            simulated: try Self.eventStreamRecord(mode: "sim", reopenedFrom: 2)
        )
        #expect(alike.agrees, "\(alike.table)")
        #expect(alike.rows.contains { $0.subject == "resume_success_rate" })
        // A simulator that resumed from the start where the sockets resumed right differs twice over.
        let replaying = ModeComparison(
            real: try Self.eventStreamRecord(mode: "real", reopenedFrom: 2),
            simulated: try Self.eventStreamRecord(mode: "sim", reopenedFrom: 0)
        )
        #expect(replaying.rows.first { $0.subject == "resume_success_rate" }?.agrees == false, "\(replaying.table)")
        #expect(replaying.rows.first { $0.subject.hasPrefix("replayed_events") }?.agrees == false)
        // A run without event streams compares as it always did.
        let plain = ModeComparison(
            real: try Self.record(mode: "real", latency: 200),
            simulated: try Self.record(mode: "sim", latency: 200)
        )
        #expect(!plain.rows.contains { $0.subject.hasPrefix("resume") || $0.subject.hasPrefix("replayed") })
    }

    @Test func theToleranceIsAHundredMillisecondsAndATenth() {
        #expect(ModeComparison.tolerance(real: 0, simulated: 0) == 100)
        #expect(ModeComparison.tolerance(real: 2_000, simulated: 1_000) == 300)
    }
}
