import SquallFaults
import SquallScenarios
import Testing

/// The one meaning of a timeline step, as both `squall run` and `squall sim` carry it out.
@Suite struct TimelineConductorTests {
    private func plan(_ timeline: String, timeScale: Double = 0.5) throws -> (PlannedTimeline, TimelineConductor) {
        let scenario = try Scenario(
            bytes: Array(
                #"{"name": "t", "timeScale": \#(timeScale), "duration": "20s", "clients": [{"name": "a", "count": 2}, {"name": "b", "count": 1}], "timeline": \#(timeline)}"#
                    .utf8
            )
        )
        return (try PlannedTimeline(scenario), TimelineConductor(clock: ScenarioClock(scenario), groups: ["b", "a"]))
    }

    @Test func aFaultIsInForceOnlyOnceAppliedEverywhereAndItsLiftIsRecordedOnce() throws {
        let (plan, start) = try self.plan(
            #"[{"at": "2s", "for": "3s", "fault": {"name": "slow", "type": "latency", "attributes": {"latency": 100}}}]"#
        )
        var conductor = start
        let (apply, lift) = (plan.steps[0], plan.steps[1])
        #expect(
            try conductor.operation(for: apply)
                == .addFault(
                    try ScenarioClock(timeScale: 0.5).played(
                        try #require(plan.steps[0].fault)
                    ),
                    groups: ["a", "b"]
                )
        )
        // Not applied on one group: recorded as not applied, never in force, its lift records nothing.
        var failed = conductor
        let notApplied = failed.performed(apply, .failed(["b: refused"]))
        #expect(notApplied?.name == .faultNotApplied)
        #expect(failed.faultsInForce.isEmpty)
        #expect(failed.performed(lift, .removed(connectionsHit: 0)) == nil)
        // Applied: in force until lifted, and the lift says how many connections it hit.
        #expect(conductor.performed(apply, .failed([]))?.name == .faultApplied)
        #expect(conductor.faultsInForce == ["slow"])
        let lifted = conductor.performed(lift, .removed(connectionsHit: 4))
        #expect(lifted?.name == .faultLifted)
        #expect(lifted?.fields.first { $0.0 == "connectionsHit" }?.1 == .number(4))
        #expect(conductor.performed(lift, .removed(connectionsHit: 4)) == nil, "a second lift records nothing")
        #expect(conductor.healing().isEmpty)
    }

    @Test func theEndOfTheRunHealsWhatIsStillInForceByName() throws {
        let (plan, start) = try self.plan(
            #"[{"at": "1s", "fault": {"name": "z", "type": "latency", "attributes": {"latency": 10}}}, {"at": "1s", "target": {"group": "a"}, "fault": {"name": "m", "type": "timeout"}}]"#
        )
        var conductor = start
        for step in plan.steps { _ = conductor.performed(step, .done) }
        #expect(
            conductor.healing() == [
                .removeFault(name: "m", groups: ["a"]), .removeFault(name: "z", groups: ["a", "b"]),
            ]
        )
        let healed = conductor.healed("m", connectionsHit: 2)
        #expect(healed?.fields.first { $0.0 == "healing" }?.1 == .bool(true))
        #expect(conductor.healed("m", connectionsHit: 2) == nil)
        #expect(conductor.faultsInForce == ["z"])
    }

    @Test func everyDurationOfAStepIsPlayedAtTheRunsScaleAndLoggedInScenarioTime() throws {
        let (plan, conductor) = try self.plan(
            #"[{"at": "2s", "handoff": {"mode": "fin", "blackout": "4s"}}, {"at": "3s", "for": "6s", "target": {"clients": 1}, "action": "suspend"}, {"at": "4s", "for": "8s", "action": "server_restart"}]"#
        )
        var operations: [TimelineConductor.Operation] = []
        for step in plan.steps { operations.append(try conductor.operation(for: step)) }
        #expect(operations[0] == .handoff(Handoff(mode: .fin, blackout: .seconds(2)), groups: ["a", "b"]))
        guard case .suspend(let clients, let lasting) = operations[1] else {
            Issue.record("no suspension: \(operations)")
            return
        }
        #expect(clients.count == 3 && lasting == .seconds(3))
        #expect(operations[2] == .restartServer(downtime: .seconds(4)))
        #expect(plan.steps.map { conductor.due($0) } == [.seconds(1), .milliseconds(1_500), .seconds(2)])
        var recording = conductor
        let handoff = recording.performed(plan.steps[0], .handedOff(connectionsCut: 3))
        #expect(handoff?.fields.first { $0.0 == "blackout" }?.1 == .string("4s"), "the log is in scenario time")
        #expect(handoff?.fields.first { $0.0 == "connectionsCut" }?.1 == .number(3))
    }
}

extension PlannedTimeline.Step {
    fileprivate var fault: Fault? {
        if case .applyFault(let fault) = self.kind { fault } else { nil }
    }
}
