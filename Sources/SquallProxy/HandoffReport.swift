import SquallFaults

/// What a handoff did, for the event log and the control API.
public struct HandoffReport: Sendable, Hashable {
    /// The proxy it happened on.
    public var proxy: String
    /// When it started, in milliseconds since the Unix epoch.
    public var startedAtMilliseconds: Int64
    /// How many live connections it cut.
    public var connectionsCut: Int
    /// The handoff itself.
    public var handoff: Handoff

    /// The report as JSON.
    public var json: JSONValue {
        .object([
            "proxy": .string(self.proxy),
            "at_ms": .number(Double(self.startedAtMilliseconds)),
            "connections_cut": .number(Double(self.connectionsCut)),
            "mode": .string(self.handoff.mode.rawValue),
            "blackout_ms": .number(self.handoff.blackout.milliseconds),
            "during": .string(self.handoff.during.rawValue),
            "to": self.handoff.profile.map { .string($0.name) } ?? .null,
        ])
    }
}
