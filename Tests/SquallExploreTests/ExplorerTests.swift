import SquallFaults
import SquallScenarios
import SquallSimulation
import Testing

@testable import SquallExplore

/// `squall explore`: deterministic for a seed, silent on the correct client, finds and shrinks a mutant's bug.
@Suite struct ExplorerTests {
    private func explore(_ strategy: String, seed: UInt64 = 1, schedules: Int) -> Explorer {
        let explorer = Explorer(strategy: strategy, clients: 5, seed: seed)
        explorer.explore(until: .now + .seconds(600), limit: schedules)
        return explorer
    }

    @Test func aFixedSeedExploresTheSameSchedules() {
        let first = self.explore("mutant-no-heartbeat", schedules: 60)
        let second = self.explore("mutant-no-heartbeat", schedules: 60)
        #expect(first.schedules == 60)
        #expect(first.failingSchedules == second.failingSchedules)
        #expect(first.findings.map(\.gate) == second.findings.map(\.gate))
        #expect(first.findings.map(\.minimal) == second.findings.map(\.minimal))
        #expect(first.coverage.transitions == second.coverage.transitions)
        #expect(first.coverage.paths == second.coverage.paths)
        // Another seed draws other schedules.
        let other = self.explore("mutant-no-heartbeat", seed: 2, schedules: 60)
        #expect(
            other.failingSchedules != first.failingSchedules || other.coverage.paths != first.coverage.paths
                || other.findings.map(\.minimal) != first.findings.map(\.minimal)
        )
    }

    @Test func theResilientClientKeepsTheContract() {
        let explorer = self.explore("resilient", schedules: 400)
        #expect(explorer.findings.isEmpty, "\(explorer.findings.map(\.gate))")
        #expect(explorer.coverage.transitions.contains("connecting→polling"))
        #expect(explorer.coverage.transitions.contains("polling→websocket"))
    }

    @Test func aMutantsBugIsFoundAndShrunkToAFewStepsAndClients() throws {
        let explorer = self.explore("mutant-no-dedup", schedules: 100)
        let finding = try #require(explorer.findings.first { $0.metric == .duplicateMessages })
        #expect(finding.minimal.steps.count <= 3)
        #expect(finding.minimal.clients.count == 1)
        // The capsule's scenario fails the same gate when simulated again.
        let record = try SimulationRunner(scenario: try Scenario(json: finding.minimal.json)).run()
        let result = try #require(record.gates.first { $0.gate.metric == .duplicateMessages })
        #expect(result.verdict == .failed)
        #expect(result.observed == finding.failure.observed)
    }

    @Test func theContractAsksForAFallbackOnlyWhereACorrectClientOwesOne() throws {
        func step(_ at: Int, _ lasting: Int, mode: String) -> JSONValue {
            .object([
                "at": .string("\(at)ms"), "for": .string("\(lasting)ms"),
                "fault": .object(["type": .string("block_upgrade"), "attributes": .object(["mode": .string(mode)])]),
            ])
        }
        func expectation(_ steps: [JSONValue]) -> [JSONValue?] {
            ExploreScenario.expecting(steps).map { step -> JSONValue? in
                guard case .object(let entry) = step, case .object(let expect)? = entry["expect"] else { return nil }
                return expect["fellBackWithin"]
            }
        }
        let allowance = JSONValue.string("\(ExploreScenario.fallbackAllowance)ms")
        // A long outright refusal, alone: the client owes a fallback.
        #expect(expectation([step(1_000, 90_000, mode: "reject")]) == [allowance])
        // Too short, or a hung upgrade (timeouts first), or with another step in force: none.
        #expect(expectation([step(1_000, 30_000, mode: "reject")]) == [nil])
        #expect(expectation([step(1_000, 90_000, mode: "hang")]) == [nil])
        let suspension = JSONValue.object([
            "at": .string("2000ms"), "for": .string("5000ms"), "action": .string("suspend"),
        ])
        #expect(expectation([step(1_000, 90_000, mode: "reject"), suspension]).first == .some(nil))
        // Every generated scenario is valid.
        var generator = ScheduleGenerator(seed: 9)
        for index in 0..<200 {
            let json = ExploreScenario.json(
                name: "x",
                steps: generator.fresh(),
                strategy: "resilient",
                clients: 3,
                seed: UInt64(index)
            )
            #expect(throws: Never.self) { try Scenario(json: json) }
        }
    }
}
