import SquallFaults
import SquallReferenceClient
import SquallScenarios

/// One scenario run both ways — on real sockets (`squall run`) and in virtual time (`squall sim`) — side by side:
/// every gate's verdict, the outcome metrics (which must be equal), and the behaviour medians (which may differ by
/// the real harness's own delays, within ``tolerance(real:simulated:)``). `squall sim --compare` prints it; it is
/// how the simulator earns trust.
package struct ModeComparison: Sendable {
    /// One line of the comparison.
    package struct Row: Sendable, Hashable {
        /// What is compared: a gate, or a metric.
        package var subject: String
        /// The real run's value.
        package var real: String
        /// The simulation's value.
        package var simulated: String
        /// Whether they agree.
        package var agrees: Bool
    }

    /// The scenario.
    package var scenario: String
    /// Gates first, then outcome metrics, then behaviour medians.
    package var rows: [Row]

    /// Whether every row agrees.
    package var agrees: Bool { self.rows.allSatisfy(\.agrees) }

    /// Outcome metrics: equal in both modes for the comparison to agree (the counts within one message per boundary
    /// a message can fall either side of, see ``boundaries(in:)``).
    static let outcomeMetrics: [Metric] = [
        .fallbackRate, .completionRate, .lostMessages, .duplicateMessages, .unexpectedMessages,
    ]
    /// Outcome metrics of runs with event streams (compared like the others, only there: a log without event
    /// streams compares as it always did).
    static let resumeMetrics: [Metric] = [.resumeSuccessRate, .replayedEvents]
    /// Behaviour metrics compared by their median.
    static let behaviourMetrics: [Metric] = [.updateLatency, .timeToRecover, .timeToFallback]

    /// How far a behaviour median may be from the real run's: 100 ms plus a tenth of the larger value, in scenario
    /// time. Both engines carry out the same fault rules with the same draws, so what is left is the real harness's
    /// own few milliseconds per hop (loopback, scheduling, the proxy), which a scenario at `timeScale` 0.1 turns into
    /// ten times as many scenario milliseconds.
    package static func tolerance(real: Double, simulated: Double) -> Double {
        100 + 0.1 * max(real, simulated)
    }

    /// Compares a real run with a simulated run of the same scenario.
    package init(real: RunRecord, simulated: RunRecord) {
        self.scenario = real.scenario.name
        var rows: [Row] = []
        let simulatedGates = Dictionary(
            simulated.gates.map { ("\($0.gate.key) \($0.gate.expression)", $0) },
            uniquingKeysWith: { first, _ in first }
        )
        for gate in real.gates {
            let key = "\(gate.gate.key) \(gate.gate.expression)"
            let other = simulatedGates[key]
            func text(_ result: GateResult?) -> String {
                guard let result else { return "absent" }
                let observed = result.observed.map { MetricSummary.format($0) } ?? "no samples"
                return "\(result.passed ? "pass" : "FAIL") (\(observed))"
            }
            rows.append(
                Row(
                    subject: "gate \(key)",
                    real: text(gate),
                    simulated: text(other),
                    agrees: other?.passed == gate.passed
                )
            )
        }
        // A message published within a few milliseconds of a boundary lands on either side of it, by the real
        // harness's own delay: each connection cut, and the loss grace at the end of each client the run stopped
        // (``RunMetrics/lossGrace``), allows a message's difference in the counts.
        let cuts = min(Self.boundaries(in: real), Self.boundaries(in: simulated))
        let eventStreams = real.metrics.hasEventStreams || simulated.metrics.hasEventStreams
        for metric in Self.outcomeMetrics + (eventStreams ? Self.resumeMetrics : []) {
            let aggregation: Gate.Aggregation = metric.kind == .rate ? .rate : .count
            let left = real.metrics.value(metric, aggregation)
            let right = simulated.metrics.value(metric, aggregation)
            var agrees = left.map { MetricSummary.round($0) } == right.map { MetricSummary.round($0) }
            var subject = metric.rawValue
            if metric.kind == .counter, let left, let right, cuts > 0 {
                agrees = abs(left - right) <= Double(cuts)
                subject += " (± \(cuts) boundar\(cuts == 1 ? "y" : "ies"))"
            }
            rows.append(
                Row(
                    subject: subject,
                    real: left.map { MetricSummary.format($0) } ?? "no samples",
                    simulated: right.map { MetricSummary.format($0) } ?? "no samples",
                    agrees: agrees
                )
            )
        }
        for metric in Self.behaviourMetrics + (eventStreams ? [.timeToResume] : []) {
            let left = real.metrics.value(metric, .median)
            let right = simulated.metrics.value(metric, .median)
            let agrees: Bool
            switch (left, right) {
            case (nil, nil): agrees = true
            case (let left?, let right?): agrees = abs(left - right) <= Self.tolerance(real: left, simulated: right)
            default: agrees = false
            }
            rows.append(
                Row(
                    subject: "\(metric.rawValue) med",
                    real: left.map { MetricSummary.format($0) } ?? "no samples",
                    simulated: right.map { MetricSummary.format($0) } ?? "no samples",
                    agrees: agrees
                )
            )
        }
        self.rows = rows
    }

    /// The boundaries a message can fall either side of: client connections that ended before the client's job did
    /// (cut under it, or closed by its own heartbeat), and clients the run stopped (whose last seconds are not counted lost).
    static func boundaries(in record: RunRecord) -> Int {
        // Every link end but the client's own at the end of its job (a heartbeat timeout is one too: a message
        // published within a few milliseconds of it lands on either side).
        record.linkEnds + record.metrics.clients.count { $0.outcome == "stopped" }
    }

    /// The comparison as a Markdown table.
    package var table: String {
        var text = "| \(self.scenario) | real | sim | |\n|---|---|---|---|\n"
        for row in self.rows {
            text += "| \(row.subject) | \(row.real) | \(row.simulated) | \(row.agrees ? "=" : "**differs**") |\n"
        }
        return text
    }
}
