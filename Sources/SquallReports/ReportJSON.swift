import SquallFaults
import SquallScenarios

/// `report.json`: the scenario as run, its seed and digests, the Squall version, the metrics (overall, per group
/// and per strategy) and every gate's verdict. `squall report` and `squall replay --rerun` read it back.
enum ReportJSON {
    /// The report document.
    static func document(_ record: RunRecord) -> JSONValue {
        let metrics = record.metrics
        var groups: [String: JSONValue] = [:]
        for group in Set(metrics.clients.map(\.group)).sorted() {
            groups[group] = MetricSummary.json(metrics, tags: ["group": group])
        }
        var strategies: [String: JSONValue] = [:]
        for strategy in Set(metrics.clients.map(\.strategy)).sorted() {
            strategies[strategy] = MetricSummary.json(metrics, tags: ["strategy": strategy])
        }
        let gates: [JSONValue] = record.gates.map { result in
            var gate: [String: JSONValue] = [
                "metric": .string(result.gate.key),
                "expression": .string(result.gate.expression),
                "observed": result.observed.map { .number(MetricSummary.round($0)) } ?? .null,
                "passed": .bool(result.passed),
            ]
            // JSON has no infinity: a client that never recovered (or never fell back) is `"never": true`.
            if result.observed == .infinity { gate["never"] = .bool(true) }
            gate.merge(GateNote.json(result, in: record)) { _, new in new }
            return .object(gate)
        }
        return .object([
            "name": .string(record.scenario.name),
            "description": .string(record.scenario.description),
            "seed": .number(Double(record.scenario.seed)),
            "timeScale": .number(record.scenario.timeScale),
            "version": .string(record.version),
            "mode": .string(record.mode),
            "scenarioDigest": .string(record.scenarioDigest),
            "planDigest": .string(record.planDigest),
            "startedAt": .number(record.startedAt.rounded()),
            "endedAt": .number(record.endedAt.rounded()),
            "durationMs": .number(MetricSummary.round(metrics.durationMilliseconds)),
            "interrupted": .bool(record.interrupted),
            "endReason": .string(record.endReason),
            "passed": .bool(record.passed),
            "verdict": .string(record.verdict.rawValue),
            "complete": .bool(record.complete),
            "harness": HarnessReport.json(record),
            "clients": .number(Double(metrics.clients.count)),
            "metrics": MetricSummary.json(metrics),
            "byGroup": .object(groups),
            "byStrategy": .object(strategies),
            "bySteps": .object(
                Dictionary(
                    record.scenario.timeline.map { entry in
                        (
                            entry.name,
                            JSONValue.object(
                                Dictionary(
                                    uniqueKeysWithValues: Metric.allCases.filter(\.isPerStep).map { metric in
                                        (
                                            metric.rawValue,
                                            MetricSummary.json(metric, metrics, tags: ["step": entry.name])
                                        )
                                    }
                                )
                            )
                        )
                    },
                    uniquingKeysWith: { first, _ in first }
                )
            ),
            "faultsNotInjected": .array(metrics.faultsNotInjected.map { .string($0) }),
            "gates": .array(gates),
            "scenario": record.scenario.source,
        ])
    }
}
