import SquallFaults

/// What a timeline step declares about the clients it targets, the way Ably's fault proxy declares a fault's
/// expected outcome: `"expect": {"recoveredWithin": "10s", "fellBackWithin": "20s", "noLoss": true}`.
///
/// Each expectation becomes a gate on a per-step metric, named after the step: `recoveredWithin` is
/// `step_recovery_ms{step:NAME}` `max<=MS`, `fellBackWithin` is `step_fallback_ms{step:NAME}` `max<=MS`, `noLoss`
/// is `step_lost_messages{step:NAME}` `count==0`. The metrics are computed per targeted client (see ``Metric``).
public struct StepExpectation: Sendable, Hashable {
    /// Every targeted client is on WebSocket again (or has finished its job) within this long of the step's end.
    public var recoveredWithin: Duration?
    /// Every targeted client polls within this long of the step's start.
    public var fellBackWithin: Duration?
    /// The targeted clients lose no message published between the step's start and its end.
    public var noLoss: Bool

    /// Reads `expect` of a timeline entry.
    ///
    /// - Throws: ``FaultError`` naming the path of a value that is not a duration above 0, a `noLoss` that is not a
    ///   boolean, an unknown key or an empty object.
    init(json: JSONValue, path: String) throws(FaultError) {
        var reader = try JSONObjectReader(json, path: path)
        func positive(_ key: String) throws(FaultError) -> Duration? {
            guard let duration = try Scenario.duration(&reader, key) else { return nil }
            guard duration > .zero else {
                throw FaultError.invalidValue(
                    path: reader.path(of: key),
                    expected: "a duration above 0",
                    found: "\"\(duration.squallText)\""
                )
            }
            return duration
        }
        self.recoveredWithin = try positive("recoveredWithin")
        self.fellBackWithin = try positive("fellBackWithin")
        self.noLoss = try reader.bool("noLoss") ?? false
        try reader.rejectUnknownKeys()
        guard self.recoveredWithin != nil || self.fellBackWithin != nil || self.noLoss else {
            throw FaultError.invalidValue(
                path: path,
                expected: "at least one of \"recoveredWithin\", \"fellBackWithin\" or \"noLoss\": true",
                found: "none"
            )
        }
    }

    /// The gates that check this expectation for the step named `step`.
    func gates(step: String) -> [Gate] {
        var gates: [Gate] = []
        func gate(_ metric: Metric, _ aggregation: Gate.Aggregation, _ text: String, _ threshold: Double) {
            gates.append(
                Gate(
                    key: "\(metric.rawValue){step:\(step)}",
                    expression: text,
                    metric: metric,
                    tags: ["step": step],
                    aggregation: aggregation,
                    comparison: aggregation == .count ? .equal : .lessOrEqual,
                    threshold: threshold
                )
            )
        }
        if let within = self.recoveredWithin {
            gate(.stepRecovery, .maximum, "max<=\(JSONValue.format(within.milliseconds))", within.milliseconds)
        }
        if let within = self.fellBackWithin {
            gate(.stepFallback, .maximum, "max<=\(JSONValue.format(within.milliseconds))", within.milliseconds)
        }
        if self.noLoss {
            gate(.stepLostMessages, .count, "count==0", 0)
        }
        return gates
    }
}
