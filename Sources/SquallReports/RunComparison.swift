import SquallFaults
import SquallScenarios

/// Where a run's outcome differs from a recorded run of the same scenario: the planned timeline, gate verdicts,
/// outcome metrics (exactly), behaviour metrics such as latencies and poll counts (beyond a tolerance, since two
/// runs over real sockets never time things identically), and each client's outcome when the recorded events are
/// at hand. `squall replay --rerun` prints it and writes it as `rerun.json`.
package struct RunComparison: Sendable {
    /// One difference.
    package struct Difference: Sendable, Hashable {
        /// What kind of thing differs.
        package enum Kind: String, Sendable, CaseIterable {
            /// The planned-timeline digest: the rerun did not play the same timeline.
            case plan
            /// A gate passed in one run and failed in the other.
            case gate
            /// An outcome metric (fallback, completion, lost, duplicate, unexpected, faults) differs.
            case metric
            /// A behaviour metric (latency, recovery, reconnects, polls) differs beyond the tolerance.
            case behaviour
            /// One client's outcome differs (completed, fell back, lost or duplicated messages).
            case client
        }

        /// What kind.
        package var kind: Kind
        /// What differs: `gate fallback_rate rate<0.05`, `metrics.lost_messages`, `client flapping-3 fell back`.
        package var subject: String
        /// The recorded run's value.
        package var recorded: String
        /// This run's value.
        package var rerun: String

        /// `gate fallback_rate rate<0.05: recorded passed (0.02), rerun FAILED (0.08)`.
        package var line: String {
            "\(self.subject): recorded \(self.recorded), rerun \(self.rerun)"
        }
    }

    /// Every difference, plan first, then gates, metrics, behaviour and clients.
    package var differences: [Difference]

    /// Whether the outcome differs (anything but behaviour metrics within their nature of varying).
    package var outcomeDiffers: Bool {
        self.differences.contains { $0.kind != .behaviour }
    }

    /// Outcome metrics, compared exactly: two runs of a sound system under the same plan should agree on them.
    static let outcomeMetrics: Set<Metric> = [
        .fallbackRate, .completionRate, .duplicateMessages, .lostMessages, .unexpectedMessages, .malformedOutput,
        .faultEvents,
        .faultsNotInjected,
    ]

    /// Compares a run with a recorded one.
    ///
    /// - Parameters:
    ///   - recordedReport: the recorded `report.json`.
    ///   - recordedClients: the recorded clients' outcomes, when its `events.ndjson` is at hand.
    ///   - rerun: this run.
    ///   - tolerance: how far (as a fraction of the larger value) a behaviour metric may move before it is reported;
    ///     0 reports any change (a re-check of a stored log must be identical).
    package init(
        recordedReport: JSONValue,
        recordedClients: [ClientOutcome]?,
        rerun: RunRecord,
        tolerance: Double = 0.5
    ) {
        let current = ReportJSON.document(rerun)
        var differences: [Difference] = []
        let recordedPlan = recordedReport["planDigest"]?.stringValue ?? "none"
        if recordedPlan != rerun.planDigest {
            differences.append(
                Difference(
                    kind: .plan,
                    subject: "planned timeline digest",
                    recorded: recordedPlan,
                    rerun: rerun.planDigest
                )
            )
        }
        differences += Self.gates(recordedReport["gates"], current["gates"])
        differences += Self.metrics(
            recordedReport["metrics"],
            current["metrics"],
            prefix: "metrics",
            tolerance: tolerance
        )
        for section in ["byStrategy", "byGroup"] {
            let names = Set(recordedReport[section]?.objectKeys ?? []).union(current[section]?.objectKeys ?? [])
                .sorted()
            for name in names {
                differences += Self.metrics(
                    recordedReport[section]?[name],
                    current[section]?[name],
                    prefix: "\(section).\(name)",
                    tolerance: tolerance
                )
            }
        }
        if let recordedClients {
            differences += Self.clients(recordedClients, rerun.metrics.clients)
        }
        // Most telling first: plan, gates, outcome metrics, behaviour, clients (stable within a kind).
        let rank = Dictionary(uniqueKeysWithValues: Difference.Kind.allCases.enumerated().map { ($1, $0) })
        self.differences = differences.enumerated()
            .sorted { (rank[$0.element.kind]!, $0.offset) < (rank[$1.element.kind]!, $1.offset) }
            .map(\.element)
    }

    private static func gates(_ recorded: JSONValue?, _ current: JSONValue?) -> [Difference] {
        func verdicts(_ value: JSONValue?) -> [String: (passed: Bool, observed: String)] {
            var result: [String: (passed: Bool, observed: String)] = [:]
            for gate in value?.arrayValue ?? [] {
                let key = "\(gate["metric"]?.stringValue ?? "?") \(gate["expression"]?.stringValue ?? "?")"
                let observed =
                    gate["never"] == .bool(true)
                    ? "never" : gate["observed"].map { $0 == .null ? "no samples" : $0.jsonText } ?? "no samples"
                result[key] = (gate["passed"] == .bool(true), observed)
            }
            return result
        }
        let before = verdicts(recorded)
        let after = verdicts(current)
        func describe(_ verdict: (passed: Bool, observed: String)?) -> String {
            guard let verdict else { return "absent" }
            return "\(verdict.passed ? "passed" : "FAILED") (\(verdict.observed))"
        }
        return Set(before.keys).union(after.keys).sorted().compactMap { key in
            guard before[key]?.passed != after[key]?.passed || before[key] == nil || after[key] == nil else {
                return nil
            }
            return Difference(
                kind: .gate,
                subject: "gate \(key)",
                recorded: describe(before[key]),
                rerun: describe(after[key])
            )
        }
    }

    private static func metrics(
        _ recorded: JSONValue?,
        _ current: JSONValue?,
        prefix: String,
        tolerance: Double
    ) -> [Difference] {
        var differences: [Difference] = []
        for metric in Metric.allCases {
            let before = recorded?[metric.rawValue]
            let after = current?[metric.rawValue]
            guard before != nil || after != nil else { continue }
            let outcome = Self.outcomeMetrics.contains(metric)
            let fields: [String] =
                switch metric.kind {
                case .rate: ["rate"]
                case .counter: ["count"]
                case .trend: ["med", "p(95)"]
                }
            for field in fields {
                let old = before?[field]?.numberValue
                let new = after?[field]?.numberValue
                guard old != new else { continue }
                let subject = "\(prefix).\(metric.rawValue)" + (metric.kind == .trend ? " \(field)" : "")
                let oldText = old.map(JSONValue.format) ?? "no samples"
                let newText = new.map(JSONValue.format) ?? "no samples"
                if outcome {
                    differences.append(Difference(kind: .metric, subject: subject, recorded: oldText, rerun: newText))
                } else if let old, let new {
                    let scale = max(abs(old), abs(new))
                    if abs(old - new) > tolerance * scale {
                        differences.append(
                            Difference(kind: .behaviour, subject: subject, recorded: oldText, rerun: newText)
                        )
                    }
                } else {
                    differences.append(
                        Difference(kind: .behaviour, subject: subject, recorded: oldText, rerun: newText)
                    )
                }
            }
        }
        return differences
    }

    private static func clients(_ recorded: [ClientOutcome], _ current: [ClientOutcome]) -> [Difference] {
        let after = Dictionary(current.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var differences: [Difference] = []
        for old in recorded {
            guard let new = after[old.id] else {
                differences.append(
                    Difference(kind: .client, subject: "client \(old.id)", recorded: "ran", rerun: "absent")
                )
                continue
            }
            let aspects: [(String, String, String)] = [
                ("outcome", old.outcome, new.outcome),
                ("fell back", old.fellBack ? "yes" : "no", new.fellBack ? "yes" : "no"),
                ("lost", "\(old.lost)", "\(new.lost)"),
                ("duplicates", "\(old.duplicates)", "\(new.duplicates)"),
                ("unexpected", "\(old.unexpected)", "\(new.unexpected)"),
            ]
            for (aspect, before, now) in aspects where before != now {
                differences.append(
                    Difference(kind: .client, subject: "client \(old.id) \(aspect)", recorded: before, rerun: now)
                )
            }
        }
        let recordedIds = Set(recorded.map(\.id))
        for new in current where !recordedIds.contains(new.id) {
            differences.append(Difference(kind: .client, subject: "client \(new.id)", recorded: "absent", rerun: "ran"))
        }
        return differences
    }

    /// The comparison as JSON (`rerun.json`): whether the outcome differs and every difference.
    package func json(recordedPath: String) -> JSONValue {
        .object([
            "recorded": .string(recordedPath),
            "outcomeDiffers": .bool(self.outcomeDiffers),
            "differences": .array(
                self.differences.map {
                    .object([
                        "kind": .string($0.kind.rawValue), "subject": .string($0.subject),
                        "recorded": .string($0.recorded), "rerun": .string($0.rerun),
                    ])
                }
            ),
        ])
    }
}
