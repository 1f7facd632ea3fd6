import SquallFaults

/// A gate's verdict: the value observed and whether it passed.
public struct GateResult: Sendable, Hashable {
    /// The gate.
    public var gate: Gate
    /// The value observed, nil when the metric had no samples (a trend with no data passes, and says so).
    public var observed: Double?
    /// Whether it passed.
    public var passed: Bool

    /// Evaluates a gate.
    public init(gate: Gate, metrics: RunMetrics) {
        self.gate = gate
        let tags = gate.metric.isPerClient ? gate.tags : [:]
        self.observed = metrics.value(gate.metric, gate.aggregation, tags: tags)
        if let observed {
            self.passed = gate.comparison.holds(observed, gate.threshold)
        } else {
            // No samples: a rate over no sessions cannot pass; a trend with no events (no reconnects to time) can.
            self.passed = gate.metric.kind == .trend
        }
    }

    /// `fallback_rate{strategy:resilient} rate<0.05: observed 0.12 — FAILED`.
    public var summary: String {
        let value =
            self.observed.map { $0 == .infinity ? "never" : JSONValue.format(($0 * 1_000).rounded() / 1_000) }
            ?? "no samples"
        return "\(self.gate.key) \(self.gate.expression): observed \(value) — \(self.passed ? "passed" : "FAILED")"
    }
}
