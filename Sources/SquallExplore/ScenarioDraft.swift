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

    /// The key of `members` that reads as `name` (keys match case-insensitively).
    package static func key(_ name: String, in members: [String: JSONValue]) -> String? {
        members.keys.first { $0.lowercased() == name.lowercased() }
    }
}
