import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer
import SquallScenarios

/// Runs a scenario in virtual time: the reference server and clients and the groups' proxies in one discrete-event
/// simulation (one clock that jumps to the next event, one seeded random tree, no sockets, no threads), writing the
/// same event log as `squall run`, from which the same metrics, gates and reports follow.
///
/// `timeScale` has no meaning here (virtual time costs nothing): the run is in scenario time, and the log's copy of
/// the scenario says `timeScale` 1 (the header keeps the ignored value).
public struct SimulationRunner: Sendable {
    /// The scenario.
    public let scenario: Scenario
    /// Where the log is written as the run goes; nil keeps it in memory.
    public let eventLogPath: String?

    /// Prepares a simulation.
    public init(scenario: Scenario, eventLogPath: String? = nil) {
        self.scenario = scenario
        self.eventLogPath = eventLogPath
    }

    /// Checks that the simulator can run `scenario`.
    ///
    /// - Throws: ``FaultError`` naming each JSON path it cannot run (external servers and clients, fault modes it
    ///   has no meaning for).
    public static func check(_ scenario: Scenario) throws(FaultError) {
        try SimulationCheck.check(scenario)
    }

    /// Runs the simulation to its end.
    ///
    /// - Throws: ``ScenarioError/invalid(file:_:)`` for what the simulator cannot run,
    ///   ``ScenarioError/reportFailed(path:reason:)`` when the log cannot be written.
    public func run() throws(ScenarioError) -> RunRecord {
        do {
            try SimulationCheck.check(self.scenario)
        } catch {
            throw .invalid(file: self.scenario.name, error)
        }
        var scenario = self.scenario
        let ignoredTimeScale = scenario.timeScale
        scenario.timeScale = 1
        if case .object(var members) = scenario.source {
            for key in members.keys where key.lowercased() == "timescale" { members.removeValue(forKey: key) }
            members["timeScale"] = .number(1)
            scenario.source = .object(members)
        }
        let plan: PlannedTimeline
        do {
            plan = try PlannedTimeline(scenario)
        } catch {
            throw .invalid(file: scenario.name, error)
        }
        let eventLog =
            try self.eventLogPath.map { path throws(ScenarioError) in try EventLog(writingTo: path) } ?? EventLog()
        defer { eventLog.close() }
        let world = SimulatedWorld(scenario: scenario, plan: plan, log: eventLog)
        world.log.run(
            .scenario(
                RunHeader([

                    ("name", .string(scenario.name)),
                    ("seed", .number(Double(scenario.seed))),
                    ("timeScale", .number(1)),
                    ("version", .string(SquallVersion.current)),
                    ("scenarioDigest", .string(Digest.fnv1a64(self.scenario.source.jsonText))),
                    ("planDigest", .string(plan.digest)),
                    ("scenario", scenario.source),
                    ("mode", .string("sim")),
                    ("ignoredTimeScale", .number(ignoredTimeScale)),
                ])
            )
        )
        let reason = world.run()
        world.log.run(.runEnded(reason: reason, interrupted: false))
        eventLog.close()
        if let path = eventLog.path, let failure = eventLog.writeFailure {
            throw .eventLogIncomplete(path: path, reason: failure)
        }
        do {
            // The lines are on disk when there is a file; only an in-memory log keeps them.
            return try RunRecord(
                analysis: world.log.takeAnalysis().finish(),
                lines: eventLog.lines,
                eventLogPath: self.eventLogPath
            )
        } catch {
            throw .reportFailed(path: self.eventLogPath ?? "(memory)", reason: "\(error)")
        }
    }
}
