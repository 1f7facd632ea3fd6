import SquallFaults
import SquallScenarios

/// The harness-health part of every report: the lag percentiles against the bound, CPU and writer backlog, and —
/// for an inconclusive run — what happened and what to do.
enum HarnessReport {
    /// The `harness` member of `report.json`.
    static func json(_ record: RunRecord) -> JSONValue {
        let health = record.harness
        func number(_ value: Double?) -> JSONValue {
            value.map { .number(MetricSummary.round($0)) } ?? .null
        }
        var members: [String: JSONValue] = [
            "measured": .bool(health.measured),
            "overloaded": .bool(health.overloaded),
            "boundMs": .number(MetricSummary.round(health.bound.milliseconds)),
            "boundReason": .string(health.bound.reason),
            "lagSamples": .number(Double(health.lagSamples)),
            "samplesOverBound": .number(Double(health.samplesOverBound)),
            "lagMs": .object([
                "p50": number(health.lagP50), "p95": number(health.lagP95), "p99": number(health.lagP99),
                "max": number(health.lagMax),
            ]),
            "worstProbe": health.worstProbe.map { .string($0) } ?? .null,
            "cpuCores": .object(["median": number(health.cpuMedian), "max": number(health.cpuMax)]),
            "writerBacklogMax": .number(Double(health.writerBacklogMax)),
            "cores": health.cores.map { .number(Double($0)) } ?? .null,
            "build": health.build.map { .string($0) } ?? .null,
            "machineCpuMedian": number(health.machineCpuMedian),
            "appCpuMax": .object(health.appCpuMax.mapValues { .number(MetricSummary.round($0)) }),
            "overloadWindows": .array(
                health.windows.map { window in
                    .object([
                        "startMs": .number((window.start - health.runStart).rounded()),
                        "endMs": .number((window.end - health.runStart).rounded()),
                        "worstLagMs": .number(MetricSummary.round(window.worstLag)),
                        "machineCores": number(window.machineCores),
                        "harnessCores": number(window.harnessCores),
                        "appCores": .object(window.appCores.mapValues { .number(MetricSummary.round($0)) }),
                        "causedByApp": .bool(window.causedByApp),
                    ])
                }
            ),
        ]
        // Only a log whose samples say it (`rssMB`, written since issue 31): an older log's report stays as it was.
        if let end = health.residentAtEnd {
            members["squallMemoryMB"] = .object([
                "afterFirstMinute": number(health.residentAfterFirstMinute), "end": .number(MetricSummary.round(end)),
                "max": number(health.residentMax),
            ])
        }
        return .object(members)
    }

    /// The sentences a report shows for an inconclusive run (empty otherwise).
    static func explanation(_ record: RunRecord) -> String? {
        guard record.verdict == .inconclusive else { return nil }
        let failed = record.gates.contains { $0.verdict == .inconclusive && !$0.passed }
        let what =
            failed
            ? "a gate's failure may be the harness's, not the app's"
            : "the harness was overloaded for so much of the run that the clients may not have done what the gates judge"
        return
            "Inconclusive: \(what) (\(record.harness.summary)), so this is no verdict on the system under test; "
            + "each gate's note says why. To get one: \(record.harness.advice)."
    }
}
