import SquallFaults

/// A scenario's timeline made concrete: every repetition expanded, every lift scheduled, every seeded choice (which
/// clients a `suspend` hits) made, client start times fixed. The same scenario and seed always give a byte-identical
/// plan (``canonicalText``), whose ``digest`` goes into the report so a rerun can prove it played the same thing.
public struct PlannedTimeline: Sendable, Hashable {
    /// One thing to do at a moment of scenario time.
    public struct Step: Sendable, Hashable {
        /// When, in scenario time.
        public var at: Duration
        /// What.
        public var kind: Kind
        /// Which client groups' proxies (nil: all).
        public var groups: [String]?
        /// The timeline entry's name (``TimelineEntry/name``), logged with the step so per-step metrics find it.
        /// Not part of the plan's canonical text: it follows from the entry.
        public var entryName: String = ""
    }

    /// The kinds of step.
    public enum Kind: Sendable, Hashable {
        /// Add the fault.
        case applyFault(Fault)
        /// Remove the fault by name.
        case liftFault(name: String)
        /// Run the handoff.
        case handoff(Handoff)
        /// Switch the profile.
        case profile(NetworkProfile?)
        /// Suspend these clients for this long.
        case suspend(clients: [String], lasting: Duration)
        /// Restart the server's WebSocket side, refusing upgrades for `downtime`.
        case serverRestart(downtime: Duration)
    }

    /// A client and when it starts.
    public struct ClientStart: Sendable, Hashable {
        /// `group-n`.
        public var id: String
        /// Its group.
        public var group: String
        /// When it starts, in scenario time.
        public var at: Duration
        /// Its backoff-jitter seed.
        public var seed: UInt64
    }

    /// The steps in time order (ties keep timeline order, lifts before applies at the same instant).
    public var steps: [Step]
    /// Every client's start.
    public var clients: [ClientStart]

    /// Plans a scenario, all in scenario time (a run's ``ScenarioClock`` plays it at its `timeScale`), so a scenario
    /// has one plan whatever its scale: `squall sim` and `squall run` play the same one.
    ///
    /// - Throws: ``FaultError`` when a fault would leave its attribute's range once played at the scenario's
    ///   `timeScale` (a parsed scenario has been checked for this already, so only one changed in code can fail here).
    public init(_ scenario: Scenario) throws(FaultError) {
        let clock = ScenarioClock(scenario)
        let seeds = SeedTree(seed: scenario.seed)
        var clients: [ClientStart] = []
        for group in scenario.clients {
            for index in 0..<group.count {
                let offset = group.count > 1 ? group.rampUp * (Double(index) / Double(group.count)) : .zero
                let id = "\(group.name)-\(index + 1)"
                clients.append(
                    ClientStart(id: id, group: group.name, at: group.startAt + offset, seed: seeds.clientSeed(id))
                )
            }
        }
        self.clients = clients
        var steps: [(order: Int, step: Step)] = []
        var order = 0
        var name = ""
        func add(_ at: Duration, _ kind: Kind, _ groups: [String]?) {
            // Lifts sort before applies at the same instant so a repeating fault is never doubled.
            let rank: Int = if case .liftFault = kind { 0 } else { 1 }
            steps.append(
                (order: rank * 1_000_000 + order, step: Step(at: at, kind: kind, groups: groups, entryName: name))
            )
            order += 1
        }
        /// The clients a target picks on one repetition of an entry, by seed, in plan order.
        func pick(_ entryIndex: Int, _ repetition: Int, _ target: TimelineEntry.Target) -> [String] {
            let candidates = clients.filter { target.groups?.contains($0.group) ?? true }.map(\.id)
            var random = seeds.timelinePick(entry: entryIndex, repetition: repetition)
            let picked = Set(
                candidates.shuffled(using: &random).prefix(Int((Double(candidates.count) * target.clients).rounded()))
            )
            return candidates.filter { picked.contains($0) }
        }
        for (entryIndex, entry) in scenario.timeline.enumerated() {
            name = entry.name
            var repetition = 0
            var at = entry.at
            while at <= scenario.duration {
                repetition += 1
                let end = entry.lasting.map { at + $0 }
                switch entry.action {
                case .fault(var fault):
                    if repetition > 1 { fault.name += "#\(repetition)" }
                    fault.toxicity *= entry.target.connections
                    if entry.target.clients < 1 {
                        fault.clients = Set(pick(entryIndex, repetition, entry.target))
                    }
                    _ = try clock.played(fault)
                    add(at, .applyFault(fault), entry.target.groups)
                    if let end, end < scenario.duration { add(end, .liftFault(name: fault.name), entry.target.groups) }
                case .handoff(let handoff):
                    add(at, .handoff(handoff), entry.target.groups)
                case .profile(let profile):
                    add(at, .profile(profile), entry.target.groups)
                    if let end, end < scenario.duration {
                        add(end, .profile(scenario.network), entry.target.groups)
                    }
                case .suspend:
                    add(
                        at,
                        .suspend(clients: pick(entryIndex, repetition, entry.target), lasting: entry.lasting ?? .zero),
                        entry.target.groups
                    )
                case .serverRestart:
                    add(at, .serverRestart(downtime: entry.lasting ?? .zero), nil)
                }
                guard let every = entry.every else { break }
                at += every
            }
        }
        self.steps = steps.sorted { ($0.step.at, $0.order) < ($1.step.at, $1.order) }.map(\.step)
    }

    /// The plan as canonical JSON text: fixed key order, one step per line.
    public var canonicalText: String {
        var lines = self.clients.map { client in
            "{\"client\":\(JSONValue.quote(client.id)),\"group\":\(JSONValue.quote(client.group)),\"at\":\(JSONValue.quote(client.at.squallText)),\"seed\":\(client.seed)}"
        }
        lines += self.steps.map(\.json.jsonText)
        return lines.joined(separator: "\n") + "\n"
    }

    /// FNV-1a 64 of ``canonicalText``, as 16 hex digits.
    public var digest: String {
        Digest.fnv1a64(self.canonicalText)
    }
}

extension PlannedTimeline.Step {
    /// The step as JSON, as it appears in reports and `fault_*` events.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["at": .string(self.at.squallText)]
        if let groups = self.groups { members["groups"] = .array(groups.map { .string($0) }) }
        switch self.kind {
        case .applyFault(let fault):
            members["step"] = .string("apply_fault")
            members["fault"] = fault.json
        case .liftFault(let name):
            members["step"] = .string("lift_fault")
            members["name"] = .string(name)
        case .handoff(let handoff):
            members["step"] = .string("handoff")
            members["mode"] = .string(handoff.mode.rawValue)
            members["blackout"] = .string(handoff.blackout.squallText)
            members["during"] = .string(handoff.during.rawValue)
            members["to"] = handoff.profile.map { .string($0.name) } ?? .null
        case .profile(let profile):
            members["step"] = .string("profile")
            members["profile"] = profile.map { .string($0.name) } ?? .null
        case .suspend(let clients, let lasting):
            members["step"] = .string("suspend")
            members["clients"] = .array(clients.map { .string($0) })
            members["for"] = .string(lasting.squallText)
        case .serverRestart(let downtime):
            members["step"] = .string("server_restart")
            members["downtime"] = .string(downtime.squallText)
        }
        return .object(members)
    }
}
