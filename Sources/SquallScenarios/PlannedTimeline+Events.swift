import SquallFaults

extension PlannedTimeline.Step {
    /// The run event that records this step once it has been performed on `groups`' proxies (by `squall run` on
    /// sockets or `squall sim` in virtual time, so both logs read the same); nil for a lift, which
    /// ``PlannedTimeline/liftEvent(name:connectionsHit:healing:)`` records.
    ///
    /// - Parameter connectionsCut: for a handoff, the connections it cut.
    package func event(groups: [String], connectionsCut: Int = 0) -> (RunEventName, [(String, JSONValue)])? {
        let at = JSONValue.string(self.at.squallText)
        let step = JSONValue.string(self.entryName)
        let groupList = JSONValue.array(groups.map { .string($0) })
        switch self.kind {
        case .applyFault(let fault):
            return (
                .faultApplied,
                [
                    ("at", at), ("step", step), ("name", .string(fault.name)), ("type", .string(fault.type.rawValue)),
                    ("direction", .string(fault.direction.rawValue)), ("toxicity", .number(fault.toxicity)),
                    ("groups", groupList), ("fault", fault.json),
                ]
            )
        case .liftFault:
            return nil
        case .handoff(let handoff):
            return (
                .handoff,
                [
                    ("at", at), ("step", step), ("mode", .string(handoff.mode.rawValue)),
                    ("blackout", .string(handoff.blackout.squallText)),
                    ("to", handoff.profile.map { .string($0.name) } ?? .null),
                    ("groups", groupList), ("connectionsCut", .number(Double(connectionsCut))),
                ]
            )
        case .profile(let profile):
            return (
                .profile,
                [
                    ("at", at), ("step", step), ("profile", profile.map { .string($0.name) } ?? .null),
                    ("groups", groupList),
                ]
            )
        case .suspend(let clients, let lasting):
            return (
                .clientsSuspended,
                [
                    ("at", at), ("step", step), ("clients", .array(clients.map { .string($0) })),
                    ("for", .string(lasting.squallText)),
                ]
            )
        case .serverRestart(let downtime):
            return (.serverRestart, [("at", at), ("step", step), ("downtime", .string(downtime.squallText))])
        }
    }
}

extension PlannedTimeline {
    /// The run event that records a fault's lift: the connections it acted on, and whether the end of the run
    /// healed it.
    package static func liftEvent(
        name: String,
        connectionsHit: Int,
        healing: Bool
    ) -> (RunEventName, [(String, JSONValue)]) {
        (
            .faultLifted,
            [("name", .string(name)), ("connectionsHit", .number(Double(connectionsHit))), ("healing", .bool(healing))]
        )
    }
}
