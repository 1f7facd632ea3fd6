import SquallFaults

/// A gate's verdict: the value observed, whether it held, and — the harness's health considered — whether that
/// is a verdict on the system under test.
///
/// The rules (also in the README, "Honest verdicts"):
/// - **A pass must be earned.** A gate with no evidence — a trend with no samples, a client group (of those the
///   gate selects) that never received a message — does not pass, unless it says `allowEmpty`.
/// - **Safety gates** (``Metric/isSafety``) are judged on every run: no lag of the harness can produce a duplicate,
///   so a failed safety gate fails the run whatever the harness did.
/// - **A failed timing or liveness gate** is inconclusive only by evidence: its *deciding samples* (those that push
///   it toward failing: a late latency, a failed attempt, a lost message) that overlap an overload window which
///   the app did not cause are set aside, and the gate is judged again on the rest. Still failing: the app failed
///   while the harness kept up, `failed`. Passing: the failure may be the harness's, `inconclusive`.
/// - **A pass, or a missing piece of evidence, under heavy overload** — excusing windows covering more than
///   ``overloadShareLimit`` of the run — is `inconclusive`: the overload may have kept the clients from doing what
///   the gate judges.
public struct GateResult: Sendable, Hashable {
    /// The gate.
    public var gate: Gate
    /// The value observed, nil when the metric had no samples.
    public var observed: Double?
    /// For a `{window:…}` gate, when the worst window began (log time, ms since the epoch).
    public var windowStart: Double?
    /// Why the gate has no evidence, when it has none: `no samples`, `group slow never received a message`.
    public var missingEvidence: String?
    /// Whether the gate held on evidence (or held with none and says `allowEmpty`).
    public var passed: Bool
    /// The gate's verdict with the harness's health considered: `passed`, `failed` or `inconclusive`.
    public var verdict: RunVerdict
    /// How the harness's overload bore on this verdict; nil when the harness never fell behind.
    public var overload: OverloadBearing?

    /// The share of a run that excusing overload windows may cover before a pass (or a missing piece of evidence)
    /// stops being a verdict: a quarter.
    public static let overloadShareLimit: Double = 0.25

    /// How an overloaded harness bore on one gate's verdict.
    public struct OverloadBearing: Sendable, Hashable {
        /// The samples that push the gate toward failing (0 when the gate failed for want of samples).
        public var decidingSamples: Int
        /// Of them, those whose stretch overlapped an excusing overload window.
        public var overlapping: Int
        /// The excusing windows they overlapped.
        public var windows: [OverloadWindow]
        /// The gate's value on the samples no excusing overload touched, when the gate failed and was re-judged.
        public var cleanValue: Double?
        /// The share of the run excusing windows covered, 0…1.
        public var share: Double
        /// One sentence for reports: why the verdict is what it is.
        public var reason: String
    }

    /// Evaluates a gate on a run's metrics, judging the harness's overload windows as above.
    public init(gate: Gate, metrics: RunMetrics, harness: HarnessHealth? = nil, runEnd: Double? = nil) {
        self.gate = gate
        let tags = gate.metric.isPerClient ? gate.tags : [:]
        let observations = metrics.observations(gate.metric, tags: tags)
        let evaluation = gate.evaluate(observations, in: metrics)
        self.observed = evaluation.value
        self.windowStart = evaluation.windowStart
        self.missingEvidence = gate.allowEmpty ? nil : Self.missingEvidence(gate, metrics, tags, evaluation.value)
        let held = evaluation.value.map { gate.comparison.holds($0, gate.threshold) } ?? gate.allowEmpty
        self.passed = held && self.missingEvidence == nil
        self.verdict = self.passed ? .passed : .failed
        self.overload = nil

        guard let harness, !harness.windows.isEmpty else { return }
        let end = runEnd ?? (metrics.startedAt + metrics.clock.played(milliseconds: metrics.durationMilliseconds))
        let share = harness.overloadShare(from: metrics.startedAt, to: end)
        let percent = "\(Int((share * 100).rounded()))%"
        let heavy = share > Self.overloadShareLimit
        let limit = "\(Int(Self.overloadShareLimit * 100))%"
        /// A bearing without re-judged samples: a pass, a want of evidence, a safety gate, too few events.
        func bearing(_ reason: String) {
            self.overload = OverloadBearing(
                decidingSamples: 0,
                overlapping: 0,
                windows: [],
                cleanValue: nil,
                share: share,
                reason: reason
            )
        }
        let appWindows = harness.windows.filter(\.causedByApp)
        let appNote =
            appWindows.isEmpty
            ? ""
            : "; the app's own processes caused \(appWindows.count) overload window(s), which excuse nothing"
        if self.passed {
            if heavy && gate.metric.isPerClient {
                self.verdict = .inconclusive
                bearing(
                    "passed, but the harness was overloaded for \(percent) of the run (more than \(limit)): the "
                        + "clients may not have done what this gate judges"
                )
            }
            return
        }
        if self.missingEvidence != nil {
            if heavy {
                self.verdict = .inconclusive
                bearing("no evidence while the harness was overloaded for \(percent) of the run (more than \(limit))")
            } else {
                bearing("no evidence, and the harness was overloaded for only \(percent) of the run\(appNote)")
            }
            return
        }
        if gate.metric.isSafety {
            bearing("a safety gate: no lag of the harness can cause it")
            return
        }
        guard let deciding = self.deciding(observations) else {
            // Too few events (a count below its floor): the overload may have kept them from happening.
            if heavy {
                self.verdict = .inconclusive
                bearing(
                    "too few events while the harness was overloaded for \(percent) of the run (more than \(limit))"
                )
            } else {
                bearing("too few events, and the harness was overloaded for only \(percent) of the run\(appNote)")
            }
            return
        }
        let excusing = harness.excusingWindows
        var touched: Set<Int> = []
        var kept: [Observation] = []
        var overlapping = 0
        var decidingCount = 0
        for observation in observations {
            guard deciding(observation) else {
                kept.append(observation)
                continue
            }
            decidingCount += 1
            let hits = excusing.indices.filter {
                observation.overlaps(start: excusing[$0].start, end: excusing[$0].end)
            }
            if hits.isEmpty {
                kept.append(observation)
            } else {
                overlapping += 1
                touched.formUnion(hits)
            }
        }
        let clean = gate.evaluate(kept, in: metrics).value
        let cleanHolds = clean.map { gate.comparison.holds($0, gate.threshold) } ?? true
        let cleanText = clean.map { JSONValue.format(($0 * 1_000).rounded() / 1_000) } ?? "no samples"
        let outside = decidingCount - overlapping
        let reason: String
        if cleanHolds {
            self.verdict = .inconclusive
            reason =
                "\(overlapping) of \(decidingCount) deciding samples overlapped overload; without them observed "
                + "\(cleanText), which passes: the failure may be the harness's"
        } else {
            reason =
                "\(outside) of \(decidingCount) deciding samples lie outside every overload window; on the samples "
                + "no overload touched observed \(cleanText), which still fails: the app failed while the harness "
                + "kept up\(appNote)"
        }
        self.overload = OverloadBearing(
            decidingSamples: decidingCount,
            overlapping: overlapping,
            windows: touched.sorted().map { excusing[$0] },
            cleanValue: clean,
            share: share,
            reason: reason
        )
    }

    /// Which samples push this failed gate toward failing; nil when it failed for too few of them (a count or a rate's
    /// share below its floor has no sample to blame).
    private func deciding(_ observations: [Observation]) -> ((Observation) -> Bool)? {
        let gate = self.gate
        guard let observed = self.observed else { return nil }
        let tooHigh: Bool
        switch gate.comparison {
        case .less, .lessOrEqual: tooHigh = true
        case .greater, .greaterOrEqual: tooHigh = false
        case .equal: tooHigh = observed > gate.threshold
        case .notEqual: return nil
        }
        switch (gate.metric.kind, gate.aggregation, tooHigh) {
        case (.rate, _, true): return { $0.value > 0 }
        case (.rate, _, false): return { $0.value == 0 }
        case (.counter, _, true), (.trend, .count, true): return { $0.value > 0 || gate.aggregation == .count }
        case (.counter, _, false), (.trend, .count, false): return nil
        case (.trend, _, true): return { $0.value > gate.threshold || !gate.comparison.holds($0.value, gate.threshold) }
        case (.trend, _, false):
            return { $0.value < gate.threshold || !gate.comparison.holds($0.value, gate.threshold) }
        }
    }

    /// Why a per-client gate has no evidence: no client selected, a selected group that never received a message,
    /// or no samples at all; nil when it has evidence.
    private static func missingEvidence(
        _ gate: Gate,
        _ metrics: RunMetrics,
        _ tags: [String: String],
        _ value: Double?
    ) -> String? {
        guard gate.metric.isPerClient else { return nil }
        let clients = metrics.clients(matching: tags)
        if clients.isEmpty { return "no client of the ones it selects ever started" }
        var groups: [String] = []
        var received: [String: (messages: Int, connections: Int)] = [:]
        for client in clients {
            if received[client.group] == nil { groups.append(client.group) }
            received[client.group, default: (0, 0)].messages += client.delivered
            received[client.group, default: (0, 0)].connections += client.connections
        }
        for group in groups where received[group]!.messages == 0 {
            let never = received[group]!.connections == 0 ? "never connected and never received" : "never received"
            return "group \(group) \(never) a message"
        }
        if value == nil { return "no samples" }
        return nil
    }

    /// `fallback_rate{strategy:resilient} rate<0.05: observed 0.12 — FAILED`.
    public var summary: String {
        let value =
            self.observed.map { $0 == .infinity ? "never" : JSONValue.format(($0 * 1_000).rounded() / 1_000) }
            ?? "no samples"
        var text = "\(self.gate.key) \(self.gate.expression): observed \(value)"
        if let missing = self.missingEvidence, self.observed != nil { text += " (no evidence: \(missing))" }
        switch self.verdict {
        case .passed: text += " — passed"
        case .failed: text += " — FAILED"
        case .inconclusive: text += self.passed ? " — passed, INCONCLUSIVE" : " — FAILED, INCONCLUSIVE"
        case .interrupted: text += " — interrupted"
        }
        return text
    }
}
