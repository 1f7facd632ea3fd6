import SquallFaults

/// A scenario's JSON taken apart for shrinking: its timeline entries (each with its place in the original), its
/// client groups, and the rest of the document. Reassembled into JSON for every candidate, so the capsule is the
/// user's own scenario, smaller, in the shape they wrote it.
package struct ScenarioDraft: Sendable, Hashable {
    /// One timeline entry and its index in the original timeline.
    package struct Step: Sendable, Hashable {
        /// Its index in the original timeline.
        package var original: Int
        /// The entry as JSON.
        package var json: JSONValue
    }

    /// Every member but the timeline and the clients, by the key as written.
    package var members: [String: JSONValue]
    /// The timeline's entries, in order.
    package var steps: [Step]
    /// The client groups, in order.
    package var clients: [JSONValue]

    /// Takes a scenario's JSON object apart (keys are matched case-insensitively, as the scenario reader does).
    ///
    /// - Returns: nil when `json` is not an object.
    package init?(_ json: JSONValue) {
        guard case .object(var members) = json else { return nil }
        var steps: [Step] = []
        if let key = Self.key("timeline", in: members), case .array(let entries)? = members.removeValue(forKey: key) {
            steps = entries.enumerated().map { Step(original: $0.offset, json: $0.element) }
        }
        var clients: [JSONValue] = []
        if let key = Self.key("clients", in: members), case .array(let groups)? = members.removeValue(forKey: key) {
            clients = groups
        }
        self.members = members
        self.steps = steps
        self.clients = clients
    }

    /// The scenario's JSON.
    package var json: JSONValue {
        var members = self.members
        members["timeline"] = .array(self.steps.map(\.json))
        members["clients"] = .array(self.clients)
        return .object(members)
    }

    /// The member named `name` in any case.
    package subscript(member name: String) -> JSONValue? {
        get { Self.key(name, in: self.members).flatMap { self.members[$0] } }
        set {
            let key = Self.key(name, in: self.members) ?? name
            self.members[key] = newValue
        }
    }

    /// The seed the document gives, when it gives a whole one.
    package var seed: UInt64? {
        guard case .number(let value)? = self[member: "seed"] else { return nil }
        return UInt64(exactly: value)
    }

    /// The draft's size: its steps, groups, clients and duration.
    package var size: JSONValue {
        let clients = self.clients.reduce(0.0) { total, group in
            guard case .object(let members) = group, let key = Self.key("count", in: members),
                case .number(let count)? = members[key]
            else { return total }
            return total + count
        }
        return .object([
            "steps": .number(Double(self.steps.count)),
            "groups": .number(Double(self.clients.count)),
            "clients": .number(clients),
            "duration": self[member: "duration"] ?? .null,
        ])
    }

    /// The size in words: "1 step, 2 clients, 90000ms".
    package var sizeDescription: String {
        func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
        guard case .object(let size) = self.size, case .number(let clients)? = size["clients"] else { return "" }
        var duration = "?"
        if case .string(let text)? = size["duration"] { duration = text }
        return "\(plural(self.steps.count, "step")), \(plural(Int(clients), "client")), \(duration)"
    }

    /// A duration value (`"2s"`) in milliseconds, exactly from its components (no trip through seconds, which
    /// lands a few ulps off); nil when `value` is not a duration.
    package static func milliseconds(_ value: JSONValue?) -> Double? {
        guard case .string(let text)? = value, let duration = Duration(parsing: text) else { return nil }
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }

    /// The key of `members` that reads as `name` (keys match case-insensitively).
    package static func key(_ name: String, in members: [String: JSONValue]) -> String? {
        members.keys.first { $0.lowercased() == name.lowercased() }
    }
}
