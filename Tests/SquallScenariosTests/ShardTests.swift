import Foundation
import SquallFaults
import SquallScenarios
import Testing

/// A scenario's clients sharded over several runners and merged into one run with one verdict.
@Suite(.serialized) struct ShardTests {
    private let text = #"""
        {"name": "sharded", "seed": 9, "timeScale": 0.05, "duration": "30s",
         "server": {"job": {"totalItems": 10, "itemInterval": "1s"}},
         "clients": [{"name": "web", "count": 4, "rampUp": "2s"}, {"name": "app", "count": 3}],
         "timeline": [{"at": "4s", "handoff": {"mode": "reset", "blackout": "1s"}}],
         "gates": {"completion_rate": ["rate==1"], "lost_messages": ["count==0"], "duplicate_messages": ["count==0"]}}
        """#

    private func scenario(_ text: String? = nil) throws -> Scenario {
        try Scenario(bytes: Array((text ?? self.text).utf8))
    }

    private func shard(_ index: Int, of count: Int, _ scenario: Scenario) async throws -> [String] {
        var runner = ScenarioRunner(scenario: scenario)
        runner.shard = Shard(index: index, count: count)
        return try await runner.run().lines
    }

    @Test func threeShardsMergeIntoTheUnshardedRunsClientsSeedsAndVerdicts() async throws {
        let scenario = try self.scenario()
        let whole = try await ScenarioRunner(scenario: scenario).run()
        var logs: [[String]] = []
        for index in [2, 0, 1] { logs.append(try await self.shard(index, of: 3, scenario)) }
        let merged = try RunRecord(lines: try ShardMerge.merge(logs))
        #expect(merged.metrics.clients.map(\.id).sorted() == whole.metrics.clients.map(\.id).sorted())
        #expect(merged.metrics.clients.count == 7)
        #expect(merged.planDigest == whole.planDigest, "every shard plays the whole plan")
        #expect(merged.gates.map(\.passed) == whole.gates.map(\.passed), "\(merged.gates.map(\.summary))")
        #expect(merged.passed)
        // One handoff in the merged log, with every shard's cut connections summed.
        let handoffs = merged.records.filter { $0.runEvent == .handoff }
        #expect(handoffs.count == 1)
        #expect((handoffs.first?.integer("connectionsCut") ?? 0) >= 7, "\(handoffs)")
        // Each client's seed does not depend on the number of shards: its first backoff after the handoff (jittered
        // by its seed) is the same in both runs.
        func backoffs(_ record: RunRecord) -> [String: Double] {
            var first: [String: Double] = [:]
            for event in record.records where event.event == "reconnect_attempt" {
                if let client = event.client, first[client] == nil { first[client] = event.number("delayMs") }
            }
            return first
        }
        #expect(backoffs(merged).count == 7)
        #expect(backoffs(merged) == backoffs(whole))
        // A single shard of one is the whole run.
        let single = try RunRecord(lines: try ShardMerge.merge([try await self.shard(0, of: 1, scenario)]))
        #expect(single.metrics.clients.count == 7)
    }

    @Test func shardsThatDoNotMakeOneRunAreRefused() async throws {
        let scenario = try self.scenario()
        let zero = try await self.shard(0, of: 3, scenario)
        let one = try await self.shard(1, of: 3, scenario)
        #expect(throws: ShardMerge.Failure.incomplete(missing: [2], duplicated: [], of: 3)) {
            try ShardMerge.merge([zero, one])
        }
        #expect(throws: ShardMerge.Failure.incomplete(missing: [2], duplicated: [0], of: 3)) {
            try ShardMerge.merge([zero, one, zero])
        }
        let other = try await self.shard(
            2,
            of: 3,
            try self.scenario(self.text.replacingOccurrences(of: "\"seed\": 9", with: "\"seed\": 10"))
        )
        let error = #expect(throws: ShardMerge.Failure.self) { try ShardMerge.merge([zero, one, other]) }
        #expect("\(error!)".contains("do not belong together") && "\(error!)".contains("seed"), "\(error!)")
        let unsharded = try await ScenarioRunner(scenario: scenario).run().lines
        #expect(throws: ShardMerge.Failure.self) { try ShardMerge.merge([unsharded]) }
    }

    @Test func eachShardsClockOffsetMovesItsEventsOntoTheSharedClock() throws {
        func log(shard: Int, offset: Double, time: Double) -> [String] {
            [
                #"{"time":1000,"source":"run","event":"scenario","name":"m","seed":1,"timeScale":1,"version":"t","scenarioDigest":"x","planDigest":"y","shard":\#(shard),"shards":2,"clockOffsetMs":\#(offset),"scenario":{"name":"m","duration":"10s","clients":[{"count":2}]}}"#,
                #"{"time":\#(time),"source":"run","event":"client_started","client":"c\#(shard)","group":"g","strategy":"s","jobId":"j\#(shard)"}"#,
                #"{"time":9000,"source":"run","event":"run_ended","reason":"duration reached","interrupted":false}"#,
            ]
        }
        // Shard 1's clock runs 500 ms ahead: its client started at 1 600 on the shared clock, after shard 0's.
        let merged = try RunRecord(
            lines: try ShardMerge.merge([
                log(shard: 1, offset: 500, time: 2_100), log(shard: 0, offset: 0, time: 1_800),
            ])
        )
        let starts = merged.records.filter { $0.runEvent == .clientStarted }.map { ($0.client ?? "", $0.time) }
        #expect(starts.map(\.0) == ["c1", "c0"])
        #expect(starts.map(\.1) == [1_600, 1_800])
        #expect(merged.records.filter { $0.runEvent == .runEnded }.count == 1)
        #expect(merged.records.first { $0.runEvent == .scenario }?.integer("shards") == 2)
    }

    @Test func aStepOnlyOneShardLoggedIsKeptAndStepsAreMatchedByIdentity() throws {
        /// A shard's log: a fault applied and lifted twice (repetitions of step `cut`), with `extra` timeline events.
        func log(shard: Int, hits: [Int], extra: [String]) -> [String] {
            var lines = [
                #"{"time":1000,"source":"run","event":"scenario","name":"m","seed":1,"timeScale":1,"version":"t","scenarioDigest":"x","planDigest":"y","shard":\#(shard),"shards":2,"scenario":{"name":"m","duration":"10s","clients":[{"count":2}]}}"#
            ]
            for (repetition, hit) in hits.enumerated() {
                let at = 2_000 + repetition * 3_000
                lines.append(
                    #"{"time":\#(at),"source":"run","event":"fault_applied","step":"cut","name":"cut","type":"reset_peer"}"#
                )
                lines.append(
                    #"{"time":\#(at + 1_000),"source":"run","event":"fault_lifted","step":"cut","name":"cut","connectionsHit":\#(hit)}"#
                )
            }
            return lines + extra + [
                #"{"time":9000,"source":"run","event":"run_ended","reason":"duration reached","interrupted":false}"#
            ]
        }
        // Shard 1 also could not apply a second fault; shard 0 logged its own steps in another order of kinds
        // (a profile first), which must not shift the pairing.
        let notApplied =
            #"{"time":1500,"source":"run","event":"fault_not_applied","step":"late","name":"late","type":"latency","reason":"no proxy"}"#
        let profile = #"{"time":1200,"source":"run","event":"profile","step":"slow","name":"3g"}"#
        let merged = try RunRecord(
            lines: try ShardMerge.merge([
                log(shard: 0, hits: [2, 0], extra: [profile]),
                log(shard: 1, hits: [1, 3], extra: [notApplied]),
            ])
        )
        let lifts = merged.records.filter { $0.runEvent == .faultLifted }.map { $0.integer("connectionsHit") }
        #expect(lifts == [3, 3], "each repetition summed with its own: \(lifts)")
        #expect(merged.metrics.faultsNotInjected == ["late (not applied)"])
        let gate = try #require(merged.gates.first { $0.gate.metric == .faultsNotInjected })
        #expect(gate.verdict == .failed)
        #expect(merged.records.first { $0.runEvent == .faultNotApplied }?.integer("shardsLogged") == 1)
        #expect(merged.records.filter { $0.runEvent == .profile }.count == 1)
    }
}
