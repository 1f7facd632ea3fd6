import SquallFaults

/// Everything a run produced: its event log and what was computed from it (metrics, gate verdicts).
///
/// Built the same way after a run and from a stored `events.ndjson` (``init(lines:)``), so a re-check gives the
/// identical result.
public struct RunRecord: Sendable {
    /// The scenario, re-read from the log's `scenario` event.
    public var scenario: Scenario
    /// The planned timeline's digest recorded at the start.
    public var planDigest: String
    /// The scenario file's digest.
    public var scenarioDigest: String
    /// The Squall version that ran it.
    public var version: String
    /// First and last event times (ms since the epoch).
    public var startedAt: Double
    /// Last event time.
    public var endedAt: Double
    /// Whether the run was interrupted (SIGINT/SIGTERM) before its end.
    public var interrupted: Bool
    /// Why it ended: `duration reached`, `all clients finished`, `interrupted`.
    public var endReason: String
    /// The log, NDJSON lines in time order.
    public var lines: [String]
    /// Files kept beside the report (an external server's output, external clients' standard error), by path
    /// relative to the report folder. Not part of the log, so a re-check does not have them.
    public var attachments: [String: String] = [:]
    /// The metrics.
    public var metrics: RunMetrics
    /// Every gate's verdict, the scenario's plus the implicit `faults_not_injected count==0`.
    public var gates: [GateResult]

    /// Whether every gate passed (an interrupted run never passes).
    public var passed: Bool {
        !self.interrupted && self.gates.allSatisfy(\.passed)
    }

    /// Re-reads a run from its log lines.
    ///
    /// - Throws: ``FaultError`` naming the line when one is not a valid event or the log has no `scenario` event.
    public init(lines: [String]) throws(FaultError) {
        var records: [EventRecord] = []
        for (index, line) in lines.enumerated() where !line.isEmpty {
            do {
                records.append(try EventRecord(line: Array(line.utf8)))
            } catch {
                throw FaultError.inContext(subject: "line \(index + 1)", error)
            }
        }
        guard let header = records.first(where: { $0.source == "run" && $0.event == "scenario" }),
            let source = header.fields["scenario"]
        else {
            throw FaultError.missingField(path: "(log)", field: "a run event \"scenario\" (the first line of events.ndjson)")
        }
        self.scenario = try Scenario(json: source)
        self.planDigest = header.string("planDigest") ?? ""
        self.scenarioDigest = header.string("scenarioDigest") ?? ""
        self.version = header.string("version") ?? ""
        let ending = records.last { $0.source == "run" && $0.event == "run_ended" }
        self.interrupted = ending?.fields["interrupted"] == .bool(true) || ending == nil
        self.endReason = ending?.string("reason") ?? "log ends without run_ended"
        self.startedAt = records.first?.time ?? 0
        self.endedAt = records.last?.time ?? 0
        self.lines = lines.filter { !$0.isEmpty }
        let metrics = RunMetrics(records: records)
        self.metrics = metrics
        var gates = self.scenario.gates
        if !gates.contains(where: { $0.metric == .faultsNotInjected }) {
            gates.append(try Gate(key: Metric.faultsNotInjected.rawValue, expression: "count==0", path: "gates"))
        }
        self.gates = gates.map { GateResult(gate: $0, metrics: metrics) }
    }
}
