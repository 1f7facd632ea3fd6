import SquallFaults

extension PlannedTimeline.Step {
    /// The runner's event that records this step once it has been performed on `groups`' proxies (by `squall run`
    /// on sockets or `squall sim` in virtual time, so both logs read the same); nil for a lift, which
    /// ``PlannedTimeline/liftEvent(name:connectionsHit:healing:)`` records.
    ///
    /// - Parameter connectionsCut: for a handoff, the connections it cut.
    package func event(groups: [String], connectionsCut: Int = 0) -> RunnerEvent? {
        let at = self.at.squallText
        let step = self.entryName
        switch self.kind {
        case .applyFault(let fault):
            return .faultApplied(
                at: at,
                step: step,
                name: fault.name,
                type: fault.type.rawValue,
                direction: fault.direction.rawValue,
                toxicity: fault.toxicity,
                groups: groups,
                fault: fault.json
            )
        case .liftFault:
            return nil
        case .handoff(let handoff):
            return .handoff(
                at: at,
                step: step,
                mode: handoff.mode.rawValue,
                blackout: handoff.blackout.squallText,
                to: handoff.profile?.name,
                groups: groups,
                connectionsCut: connectionsCut
            )
        case .profile(let profile):
            return .profile(at: at, step: step, profile: profile?.name, groups: groups)
        case .suspend(let clients, let lasting):
            return .clientsSuspended(at: at, step: step, clients: clients, lasting: lasting.squallText)
        case .serverRestart(let downtime):
            return .serverRestart(at: at, step: step, downtime: downtime.squallText)
        }
    }
}

extension PlannedTimeline {
    /// The runner's event that records a fault's lift: the connections it acted on, and whether the end of the run
    /// healed it.
    package static func liftEvent(name: String, connectionsHit: Int, healing: Bool) -> RunnerEvent {
        .faultLifted(name: name, connectionsHit: connectionsHit, healing: healing)
    }
}
