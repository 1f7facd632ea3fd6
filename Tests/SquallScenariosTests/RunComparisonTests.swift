import Foundation
import SquallFaults
import SquallReports
import SquallScenarios
import Testing

/// `RunComparison` on hand-made logs: identical runs compare clean, and each kind of change is named.
@Suite struct RunComparisonTests {
    private static let header =
        #"{"time":1000,"source":"run","event":"scenario","name":"c","seed":1,"timeScale":1,"version":"t","scenarioDigest":"x","planDigest":"PLAN","scenario":{"name":"c","duration":"10s","clients":[{"count":2}],"gates":{"duplicate_messages":["count==0"]}}}"#

    private static func record(plan: String = "PLAN", duplicate: Bool = false, latency: Double = 10) throws -> RunRecord
    {
        var lines = [
            header.replacingOccurrences(of: "PLAN", with: plan),
            #"{"time":1001,"source":"run","event":"client_started","client":"a","group":"g","strategy":"resilient","jobId":"j1"}"#,
            #"{"time":1001,"source":"run","event":"client_started","client":"b","group":"g","strategy":"resilient","jobId":"j2"}"#,
            #"{"time":1010,"source":"server","event":"published","jobId":"j1","seq":1,"type":"complete"}"#,
            #"{"time":1010,"source":"server","event":"published","jobId":"j2","seq":1,"type":"complete"}"#,
            #"{"time":\#(1010 + latency),"source":"client","client":"a","event":"delivered","jobId":"j1","seq":1,"via":"websocket"}"#,
            #"{"time":1020,"source":"client","client":"b","event":"delivered","jobId":"j2","seq":1,"via":"websocket"}"#,
        ]
        if duplicate {
            lines.append(
                #"{"time":1021,"source":"client","client":"b","event":"delivered","jobId":"j2","seq":1,"via":"websocket"}"#
            )
        }
        lines += [
            #"{"time":1030,"source":"client","client":"a","event":"finished","jobId":"j1","outcome":"completed"}"#,
            #"{"time":1030,"source":"client","client":"b","event":"finished","jobId":"j2","outcome":"completed"}"#,
            #"{"time":2000,"source":"run","event":"run_ended","reason":"all clients finished","interrupted":false}"#,
        ]
        return try RunRecord(lines: lines)
    }

    @Test func theSameRunComparesClean() throws {
        let recorded = try Self.record()
        let comparison = RunComparison(
            recordedReport: ReportWriter.reportDocument(recorded),
            recordedClients: recorded.metrics.clients,
            rerun: try Self.record(),
            tolerance: 0
        )
        #expect(comparison.differences.isEmpty, "\(comparison.differences.map(\.line))")
        #expect(!comparison.outcomeDiffers)
    }

    @Test func aDuplicateIsAGateAMetricAndAClientDifference() throws {
        let recorded = try Self.record()
        let comparison = RunComparison(
            recordedReport: ReportWriter.reportDocument(recorded),
            recordedClients: recorded.metrics.clients,
            rerun: try Self.record(duplicate: true)
        )
        #expect(comparison.outcomeDiffers)
        let lines = comparison.differences.map(\.line)
        #expect(comparison.differences.first?.kind == .gate, "the most telling first: \(lines)")
        #expect(lines.contains("gate duplicate_messages count==0: recorded passed (0), rerun FAILED (1)"), "\(lines)")
        #expect(lines.contains("metrics.duplicate_messages: recorded 0, rerun 1"), "\(lines)")
        #expect(lines.contains("client b duplicates: recorded 0, rerun 1"), "\(lines)")
        #expect(!lines.contains { $0.hasPrefix("client a") }, "client a behaved the same")
    }

    @Test func aDifferentPlanIsNamedAndTimingHonoursTheTolerance() throws {
        let recorded = try Self.record()
        let slower = try Self.record(plan: "OTHER", latency: 12)
        let tolerant = RunComparison(
            recordedReport: ReportWriter.reportDocument(recorded),
            recordedClients: nil,
            rerun: slower,
            tolerance: 0.5
        )
        #expect(
            tolerant.differences.map(\.kind) == [.plan],
            "20% slower latency is within a 50% tolerance: \(tolerant.differences.map(\.line))"
        )
        #expect(tolerant.outcomeDiffers, "another planned timeline is not the same experiment")
        let strict = RunComparison(
            recordedReport: ReportWriter.reportDocument(recorded),
            recordedClients: nil,
            rerun: slower,
            tolerance: 0
        )
        #expect(
            strict.differences.contains { $0.kind == .behaviour && $0.subject.hasPrefix("metrics.update_latency_ms") },
            "\(strict.differences.map(\.line))"
        )
    }
}
