import SquallFaults

/// Plays a planned timeline as decisions: when each step is due, what the world must do for it (played at the run's
/// ``ScenarioClock``), which faults are in force, and the run event that records what the world did.
///
/// The one meaning of a timeline step. `squall run` carries the operations out on proxies, the server and clients
/// over sockets (``TimelinePlayer``); `squall sim` carries them out in virtual time. Neither scales a duration,
/// keeps the faults in force or words an event itself, so both logs record one step the same way.
package struct TimelineConductor: Sendable {
    /// What the world does for a step: the small protocol both worlds implement.
    package enum Operation: Sendable, Equatable {
        /// Add `fault` (played) on the groups' proxies.
        case addFault(Fault, groups: [String])
        /// Remove the fault named `name` from the groups' proxies.
        case removeFault(name: String, groups: [String])
        /// Hand the groups' proxies off (played).
        case handoff(Handoff, groups: [String])
        /// Switch the groups' proxies to `profile` (played; nil: none).
        case setProfile(NetworkProfile?, groups: [String])
        /// Freeze these clients for `lasting` (played).
        case suspend(clients: [String], lasting: Duration)
        /// Restart the server's WebSocket side, refusing upgrades for `downtime` (played).
        case restartServer(downtime: Duration)
    }

    /// What the world did.
    package enum Outcome: Sendable, Equatable {
        /// Done, everywhere.
        case done
        /// It failed on some groups: one `group: why` each.
        case failed([String])
        /// The fault was removed; it had acted on this many connections.
        case removed(connectionsHit: Int)
        /// The handoff cut this many live connections.
        case handedOff(connectionsCut: Int)
    }

    /// The clock the run plays at.
    package let clock: ScenarioClock
    /// Every client group, for a step that targets all of them.
    package let allGroups: [String]
    /// Faults in force, by name, with the groups they were applied to.
    private var inForce: [String: [String]] = [:]

    /// A conductor for a run at `clock` over `groups`.
    package init(clock: ScenarioClock, groups: [String]) {
        self.clock = clock
        self.allGroups = groups.sorted()
    }

    /// The names of the faults in force, for the progress line.
    package var faultsInForce: [String] {
        self.inForce.keys.sorted()
    }

    /// When `step` is due, as played from the start of the run.
    package func due(_ step: PlannedTimeline.Step) -> Duration {
        self.clock.played(step.at)
    }

    /// What the world must do for `step`.
    ///
    /// - Throws: ``FaultError`` when the step's fault cannot be played at the run's scale (never for a parsed
    ///   scenario, which is checked for this).
    package func operation(for step: PlannedTimeline.Step) throws(FaultError) -> Operation {
        let groups = self.groups(of: step)
        switch step.kind {
        case .applyFault(let fault): return .addFault(try self.clock.played(fault), groups: groups)
        case .liftFault(let name): return .removeFault(name: name, groups: groups)
        case .handoff(let handoff): return .handoff(self.clock.played(handoff), groups: groups)
        case .profile(let profile): return .setProfile(self.clock.played(profile), groups: groups)
        case .suspend(let clients, let lasting): return .suspend(clients: clients, lasting: self.clock.played(lasting))
        case .serverRestart(let downtime): return .restartServer(downtime: self.clock.played(downtime))
        }
    }

    /// Records what the world did for `step`.
    ///
    /// - Returns: the event that records it: `fault_applied` (or `fault_not_applied` with each failure), a lift
    ///   (only for a fault that was in force), `handoff`, `profile` (or `fault_not_applied`), `clients_suspended`,
    ///   `server_restart`; nil when there is nothing to record.
    package mutating func performed(_ step: PlannedTimeline.Step, _ outcome: Outcome) -> RunnerEvent? {
        let groups = self.groups(of: step)
        let at = step.at.squallText
        if case .failed(let failures) = outcome, !failures.isEmpty {
            // Never logged as applied: the run fails on `faults_not_injected` and says why.
            switch step.kind {
            case .applyFault(let fault):
                return .faultNotApplied(at: at, name: fault.name, errors: failures, fault: fault.json)
            case .profile(let profile):
                return .faultNotApplied(
                    at: at,
                    name: "profile \(profile?.name ?? "none")",
                    errors: failures,
                    fault: nil
                )
            case .liftFault, .handoff, .suspend, .serverRestart:
                break
            }
        }
        switch step.kind {
        case .applyFault(let fault):
            self.inForce[fault.name] = groups
        case .liftFault(let name):
            guard self.inForce.removeValue(forKey: name) != nil else { return nil }
            return PlannedTimeline.liftEvent(name: name, connectionsHit: outcome.connectionsHit, healing: false)
        case .handoff, .profile, .suspend, .serverRestart:
            break
        }
        return step.event(groups: groups, connectionsCut: outcome.connectionsCut)
    }

    /// The faults still in force at the end of the run, to remove (by name), each then recorded with
    /// ``healed(_:connectionsHit:)``.
    package func healing() -> [Operation] {
        self.inForce.sorted { $0.key < $1.key }.map { .removeFault(name: $0.key, groups: $0.value) }
    }

    /// Records that the end of the run removed fault `name`.
    package mutating func healed(_ name: String, connectionsHit: Int) -> RunnerEvent? {
        guard self.inForce.removeValue(forKey: name) != nil else { return nil }
        return PlannedTimeline.liftEvent(name: name, connectionsHit: connectionsHit, healing: true)
    }

    private func groups(of step: PlannedTimeline.Step) -> [String] {
        step.groups ?? self.allGroups
    }
}

extension TimelineConductor.Outcome {
    /// The connections a removed fault had acted on (0 for anything else).
    fileprivate var connectionsHit: Int {
        switch self {
        case .removed(let hits): hits
        case .done, .failed, .handedOff: 0
        }
    }

    /// The connections a handoff cut (0 for anything else).
    fileprivate var connectionsCut: Int {
        switch self {
        case .handedOff(let cut): cut
        case .done, .failed, .removed: 0
        }
    }
}
