import Foundation
import SquallFaults
import SquallScenarios
import SquallSimulation
import Testing

@testable import SquallExplore

/// `squall shrink`'s engine on scenarios whose clients are broken on purpose.
@Suite struct ScenarioShrinkerTests {
    /// Twenty clients that do not resume, a handoff, and two steps that have nothing to do with the duplicates.
    static let duplicates = """
        {"name": "dup-shrink", "seed": 5, "timeScale": 0.1, "duration": "90s", "network": "wifi",
         "server": {"job": {"totalItems": 40, "itemInterval": "500ms"}},
         "clients": [{"count": 20, "rampUp": "3s", "strategy": "broken-no-resume"},
                     {"name": "good", "count": 5, "strategy": "resilient"}],
         "timeline": [
           {"at": "4s", "for": "2s", "fault": {"name": "slow", "type": "latency", "attributes": {"latency": 100}}},
           {"at": "10s", "handoff": {"mode": "reset", "blackout": "2s", "during": "refuse", "to": "lte"}},
           {"at": "30s", "profile": "nlc-3g"}
         ],
         "gates": {"completion_rate": ["rate>0.5"], "duplicate_messages": ["count==0"]}}
        """

    /// Clients without a heartbeat behind a black-holed handoff, whose step expects no loss; a step before it.
    static let stepGate = """
        {"name": "step-shrink", "seed": 3, "duration": "60s",
         "server": {"job": {"totalItems": 40, "itemInterval": "1s"}},
         "clients": [{"count": 8, "rampUp": "2s", "strategy": "broken-no-heartbeat"}],
         "timeline": [
           {"at": "5s", "for": "2s", "fault": {"name": "slow", "type": "latency", "attributes": {"latency": 200}}},
           {"at": "20s", "handoff": {"mode": "blackhole", "blackout": "1s"},
            "expect": {"recoveredWithin": "10s", "noLoss": true}}
         ],
         "gates": {"lost_messages": ["count==0"]}}
        """

    private func simulate(_ json: JSONValue) throws -> RunRecord {
        try SimulationRunner(scenario: try Scenario(json: json, clientLimit: Scenario.maximumSimulatedClients)).run()
    }

    /// Shrinks `text` keeping `gate` (or the first failed gate); returns the shrinker and the original and minimal.
    private func shrink(_ text: String, gate: String? = nil) throws -> (ScenarioShrinker, ScenarioDraft) {
        let json = try JSONValue.parse(Array(text.utf8))
        let record = try self.simulate(json)
        let target = try #require(ShrinkTarget.failing(in: record, named: gate))
        let shrinker = ScenarioShrinker(target: target)
        let focused = shrinker.focused(try #require(ScenarioDraft(json)), seed: record.scenario.seed)
        #expect(shrinker.fails(focused))
        return (shrinker, shrinker.shrink(focused))
    }

    @Test func aBrokenClientShrinksToOneClientAndTheOneStepThatMatters() throws {
        let (shrinker, minimal) = try self.shrink(Self.duplicates)
        #expect(shrinker.target.gate.key == "duplicate_messages")
        // The latency and the profile change go; the handoff stays, milder; one broken client is enough.
        #expect(minimal.steps.map(\.original) == [1])
        #expect(minimal.clients.count == 1)
        guard case .object(let group) = minimal.clients[0] else {
            Issue.record("not an object")
            return
        }
        #expect(group["count"] == .number(1))
        #expect(group["strategy"] == .string("broken-no-resume"))
        #expect(minimal[member: "network"] == nil)
        #expect(minimal[member: "gates"] == .object(["duplicate_messages": .array([.string("count==0")])]))
        #expect(shrinker.statistics.kept > 0)
        #expect(shrinker.statistics.complete)
    }

    @Test func theCapsuleReplaysTheSameFailureByteForByte() throws {
        let (shrinker, minimal) = try self.shrink(Self.duplicates)
        let first = try self.simulate(minimal.json)
        let second = try self.simulate(minimal.json)
        #expect(first.lines == second.lines)
        #expect(!first.lines.isEmpty)
        let gate = try #require(first.gates.first { $0.gate.key == "duplicate_messages" })
        #expect(gate.verdict == .failed)
        #expect(gate.observed == shrinker.lastFailure?.observed)
        // And it is a valid scenario, read by the same strict reader as a user's file.
        #expect(throws: Never.self) { try Scenario(json: minimal.json) }
    }

    @Test func aStepGateFollowsItsStepWhenEarlierStepsGo() throws {
        let (shrinker, minimal) = try self.shrink(
            Self.stepGate,
            gate: "step_lost_messages{step:timeline-1.handoff}"
        )
        #expect(shrinker.target.originalStep == 1)
        #expect(minimal.steps.map(\.original) == [1])
        // The step is now the first: its gate is named after its new place.
        #expect(shrinker.lastFailure?.gate.key == "step_lost_messages{step:timeline-0.handoff}")
        // Only the expectation that makes the gate is kept, and no other gate.
        guard case .object(let step) = minimal.steps[0].json else {
            Issue.record("not an object")
            return
        }
        #expect(step["expect"] == .object(["noLoss": .bool(true)]))
        #expect(minimal[member: "gates"] == nil)
    }

    @Test func aPassingScenarioHasNothingToShrink() throws {
        let passing = try JSONValue.parse(
            Array(Self.duplicates.replacingOccurrences(of: "broken-no-resume", with: "resilient").utf8)
        )
        #expect(ShrinkTarget.failing(in: try self.simulate(passing)) == nil)
    }

    @Test func aSameGateFailingForWantOfEvidenceIsNotTheSameFailure() throws {
        let json = try JSONValue.parse(Array(Self.duplicates.utf8))
        let record = try self.simulate(json)
        var target = try #require(ShrinkTarget.failing(in: record, named: "duplicate_messages"))
        let result = target.result(in: record, stepName: nil)
        #expect(target.isSameFailure(result))
        target.hadEvidence = false
        #expect(!target.isSameFailure(result))
    }

    @Test func weakerStepsInTheDocumentedOrder() throws {
        let handoff = try JSONValue.parse(
            Array(#"{"at": "10s", "every": "20s", "handoff": {"blackout": "2s", "to": "lte"}}"#.utf8)
        )
        let variants = StepWeakening.variants(of: handoff).map(\.jsonText)
        #expect(
            variants == [
                #"{"at":"10s","handoff":{"blackout":"2s","to":"lte"}}"#,
                #"{"at":"10s","every":"40000ms","handoff":{"blackout":"2s","to":"lte"}}"#,
                #"{"at":"10s","every":"20s","handoff":{"blackout":"2s","mode":"blackhole","to":"lte"}}"#,
                #"{"at":"10s","every":"20s","handoff":{"blackout":"1000ms","to":"lte"}}"#,
                #"{"at":"10s","every":"20s","handoff":{"to":"lte"}}"#,
                #"{"at":"10s","every":"20s","handoff":{"blackout":"2s"}}"#,
            ]
        )
        let fault = try JSONValue.parse(
            Array(
                #"{"at": "1s", "for": "3s", "fault": {"type": "bandwidth", "toxicity": 1, "attributes": {"rate": 16}}}"#
                    .utf8
            )
        )
        #expect(
            StepWeakening.variants(of: fault).map(\.jsonText) == [
                #"{"at":"1s","fault":{"attributes":{"rate":16},"toxicity":1,"type":"bandwidth"},"for":"1500ms"}"#,
                #"{"at":"1s","fault":{"attributes":{"rate":16},"toxicity":0.5,"type":"bandwidth"},"for":"3s"}"#,
                #"{"at":"1s","fault":{"attributes":{"rate":32},"toxicity":1,"type":"bandwidth"},"for":"3s"}"#,
            ]
        )
    }
}

/// A gate that asks for something to happen keeps its faults: "nothing happened" must not be the smallest failure.
@Suite struct ShrinkFloorTests {
    @Test func anActivityGateKeepsEveryStepAndAJobsWorthOfTime() throws {
        // No heartbeat: after the handoff nobody notices the dead socket, so nobody polls.
        let text = """
            {"name": "floor", "seed": 44, "timeScale": 0.1, "duration": "60s",
             "server": {"job": {"totalItems": 20, "itemInterval": "1s"}},
             "clients": [{"count": 10, "rampUp": "2s", "strategy": "broken-no-heartbeat"}],
             "timeline": [
               {"at": "3s", "for": "1s", "fault": {"name": "slow", "type": "latency", "attributes": {"latency": 50}}},
               {"at": "6s", "handoff": {"mode": "reset", "blackout": "8s", "during": "refuse"}}],
             "gates": {"polling_requests": ["count>0"]}}
            """
        let json = try JSONValue.parse(Array(text.utf8))
        let record = try SimulationRunner(scenario: try Scenario(json: json)).run()
        let target = try #require(ShrinkTarget.failing(in: record))
        #expect(target.asksForActivity)
        let shrinker = ScenarioShrinker(target: target)
        let minimal = shrinker.shrink(shrinker.focused(try #require(ScenarioDraft(json)), seed: 44))
        #expect(minimal.steps.map(\.original) == [0, 1])
        #expect(minimal.steps.map(\.json) == ScenarioDraft(json)?.steps.map(\.json))
        let duration = try #require(minimal[member: "duration"])
        guard case .string(let text) = duration, let length = Duration(parsing: text) else {
            Issue.record("duration \(duration)")
            return
        }
        #expect(length >= .milliseconds(ScenarioShrinker.shortestRun(minimal)))
    }

    @Test func aGateFailingForWantOfEvidenceIsChosenOnlyByName() throws {
        let text = """
            {"name": "empty", "seed": 1, "duration": "5s", "clients": [{"count": 2}],
             "gates": {"time_to_recover_ms": ["p(95)<1000"], "lost_messages": ["count==0"]}}
            """
        let record = try SimulationRunner(scenario: try Scenario(json: try JSONValue.parse(Array(text.utf8)))).run()
        #expect(record.gates.contains { $0.verdict == .failed && $0.missingEvidence != nil })
        #expect(ShrinkTarget.failing(in: record) == nil)
        #expect(ShrinkTarget.failing(in: record, named: "time_to_recover_ms")?.hadEvidence == false)
    }
}
