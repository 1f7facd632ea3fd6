import SquallScenarios

/// The failure a shrink keeps: one gate, failing the same way (on a value, or for want of evidence).
///
/// A gate from the scenario's `gates` is known by its key and expression. A step's gate (from a timeline entry's
/// `expect`) is named after its step, whose name (`timeline-N.handoff`) changes when earlier steps are removed, so
/// it is known by its metric, its expression and the step's place in the original timeline.
package struct ShrinkTarget: Sendable, Hashable {
    /// The gate as the original run evaluated it.
    package var gate: Gate
    /// For a step's gate: the step's index in the original timeline.
    package var originalStep: Int?
    /// Whether the original failure had an observed value (a shrink that loses the evidence is not the same failure).
    package var hadEvidence: Bool

    /// The first gate that failed on a value in `record` (or the one whose key, or `key` + ` ` + expression, is
    /// `named`, which may have failed for want of evidence).
    ///
    /// A gate that failed for want of evidence (no samples) is not chosen unless named: removing things removes
    /// evidence, so its "smallest failing scenario" would be one where nothing happens.
    ///
    /// - Returns: nil when no such gate failed.
    package static func failing(in record: RunRecord, named: String? = nil) -> ShrinkTarget? {
        let failed = record.gates.filter { $0.verdict == .failed && (named != nil || $0.missingEvidence == nil) }
        let chosen =
            named.map { name in
                failed.first { $0.gate.key == name || "\($0.gate.key) \($0.gate.expression)" == name }
            } ?? failed.first
        guard let result = chosen else { return nil }
        let step = record.scenario.timeline.firstIndex { entry in
            result.gate.tags["step"] == entry.name && entry.expect != nil
        }
        return ShrinkTarget(
            gate: result.gate,
            originalStep: result.gate.tags["step"] == nil ? nil : step,
            hadEvidence: result.missingEvidence == nil
        )
    }

    /// Whether the gate asks for something to happen (`completion_rate rate==1`, `polling_requests count>0`): a
    /// floor, which removing faults or weakening them could break for no reason but that nothing happens any more.
    /// For such a gate the timeline's steps stay as they are; the clients and the run's length shrink.
    package var asksForActivity: Bool {
        switch self.gate.comparison {
        case .greater, .greaterOrEqual, .notEqual: true
        case .less, .lessOrEqual: false
        case .equal: self.gate.threshold != 0
        }
    }

    /// The result of this gate in a candidate's run, whose timeline step `stepName` is the original target step.
    package func result(in record: RunRecord, stepName: String?) -> GateResult? {
        if self.originalStep != nil {
            guard let stepName else { return nil }
            return record.gates.first {
                $0.gate.metric == self.gate.metric && $0.gate.tags["step"] == stepName
                    && $0.gate.expression == self.gate.expression
            }
        }
        return record.gates.first { $0.gate.key == self.gate.key && $0.gate.expression == self.gate.expression }
    }

    /// Whether `result` is the same failure.
    package func isSameFailure(_ result: GateResult?) -> Bool {
        guard let result, result.verdict == .failed else { return false }
        return (result.missingEvidence == nil) == self.hadEvidence
    }
}
