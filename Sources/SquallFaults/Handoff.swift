/// A network handoff, such as Wi-Fi to cellular: every live connection dies at once, new connections fail for a
/// blackout, then a new network profile applies to everything after.
public struct Handoff: Sendable, Hashable {
    /// How the live connections die.
    public enum CutMode: String, Sendable, Hashable, CaseIterable {
        /// Both peers get an RST.
        case reset
        /// Both peers get a FIN.
        case fin
        /// Both sockets stay open and silent: the half-open case, which a peer learns of only by its own timeout.
        case blackhole
    }

    /// What happens to connections attempted during the blackout.
    public enum BlackoutMode: String, Sendable, Hashable, CaseIterable {
        /// They are refused (the listener is closed: ECONNREFUSED).
        case refuse
        /// They are accepted and never answered.
        case blackhole
    }

    /// How live connections die. Default `reset`.
    public var mode: CutMode
    /// How long new connections fail. Default none.
    public var blackout: Duration
    /// How they fail during the blackout. Default `refuse`.
    public var during: BlackoutMode
    /// The profile that applies afterwards; nil keeps the current one.
    public var profile: NetworkProfile?

    /// Creates a handoff.
    public init(
        mode: CutMode = .reset,
        blackout: Duration = .zero,
        during: BlackoutMode = .refuse,
        to profile: NetworkProfile? = nil
    ) {
        self.mode = mode
        self.blackout = blackout
        self.during = during
        self.profile = profile
    }

    /// Reads `{"mode": "reset", "blackout": "2s", "during": "refuse", "to": "lte"}`.
    ///
    /// - Throws: ``FaultError`` naming the bad field.
    public init(json: JSONValue, path: String) throws(FaultError) {
        var reader = try JSONObjectReader(json, path: path)
        self.init()
        if let text = try reader.string("mode") {
            guard let mode = CutMode(rawValue: text.lowercased()) else {
                throw FaultError.invalidValue(
                    path: reader.path(of: "mode"),
                    expected: "\"reset\", \"fin\" or \"blackhole\"",
                    found: JSONValue.string(text).typeDescription
                )
            }
            self.mode = mode
        }
        if let value = reader.value("blackout") {
            let attribute = FaultAttribute("blackout", .milliseconds, "")
            self.blackout = .nanoseconds(Int64(try attribute.read(value, path: reader.path(of: "blackout")) * 1e6))
        }
        if let text = try reader.string("during") {
            guard let during = BlackoutMode(rawValue: text.lowercased()) else {
                throw FaultError.invalidValue(
                    path: reader.path(of: "during"),
                    expected: "\"refuse\" or \"blackhole\"",
                    found: JSONValue.string(text).typeDescription
                )
            }
            self.during = during
        }
        if let name = try reader.string("to") {
            guard let profile = NetworkProfile.named(name) else {
                throw FaultError.invalidValue(
                    path: reader.path(of: "to"),
                    expected: "a network profile (\(NetworkProfile.all.map(\.name).joined(separator: ", ")))",
                    found: JSONValue.string(name).typeDescription
                )
            }
            self.profile = profile
        }
        try reader.rejectUnknownKeys()
    }
}
