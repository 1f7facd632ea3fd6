import SquallFaults
import SquallScenarios

/// What a report says about one gate beyond its value: the worst window of a window gate, a want of evidence, and
/// how the harness's overload bore on its verdict.
package enum GateNote {
    /// The sentences, joined; nil when there is nothing to add.
    package static func text(_ result: GateResult, in record: RunRecord) -> String? {
        var parts: [String] = []
        if let start = result.windowStart, let window = result.gate.window {
            let offset = ScenarioClock(record.scenario).scenarioMilliseconds(from: record.startedAt, to: start) / 1_000
            parts.append(
                "worst \(MetricSummary.format(window.seconds)) s window from \(MetricSummary.format(offset)) s"
            )
        }
        if let missing = result.missingEvidence { parts.append("no evidence: \(missing)") }
        if let overload = result.overload {
            var text = overload.reason
            if !overload.windows.isEmpty {
                let spans = overload.windows.prefix(5).map { $0.span(runStart: record.harness.runStart) }
                text += " (overload \(spans.joined(separator: ", "))"
                text += overload.windows.count > 5 ? ", …)" : ")"
            }
            parts.append(text)
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// The `report.json` members for one gate's verdict.
    package static func json(_ result: GateResult, in record: RunRecord) -> [String: JSONValue] {
        var members: [String: JSONValue] = ["verdict": .string(result.verdict.rawValue)]
        if let window = result.gate.window { members["windowMs"] = .number(window.milliseconds) }
        if let start = result.windowStart {
            members["windowStartMs"] = .number(
                MetricSummary.round(
                    ScenarioClock(record.scenario).scenarioMilliseconds(from: record.startedAt, to: start)
                )
            )
        }
        if let missing = result.missingEvidence { members["missingEvidence"] = .string(missing) }
        if result.gate.allowEmpty { members["allowEmpty"] = .bool(true) }
        if let overload = result.overload {
            members["overload"] = .object([
                "decidingSamples": .number(Double(overload.decidingSamples)),
                "overlapping": .number(Double(overload.overlapping)),
                "cleanValue": overload.cleanValue.map {
                    $0.isFinite ? .number(MetricSummary.round($0)) : .string("never")
                }
                    ?? .null,
                "share": .number(MetricSummary.round(overload.share)),
                "reason": .string(overload.reason),
                "windows": .array(
                    overload.windows.map { window in
                        .object([
                            "startMs": .number((window.start - record.harness.runStart).rounded()),
                            "endMs": .number((window.end - record.harness.runStart).rounded()),
                        ])
                    }
                ),
            ])
        }
        return members
    }
}
