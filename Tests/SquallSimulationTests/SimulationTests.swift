import Foundation
import SquallFaults
import SquallScenarios
import SquallSimulation
import Testing

/// `squall sim`: the reference system and the faults in virtual time, with answers known to the millisecond.
@Suite struct SimulationTests {
    private func simulate(_ text: String, seed: UInt64? = nil) throws -> RunRecord {
        var scenario = try Scenario(bytes: Array(text.utf8), clientLimit: Scenario.maximumSimulatedClients)
        if let seed { scenario = scenario.seeded(seed) }
        return try SimulationRunner(scenario: scenario).run()
    }

    private func times(_ record: RunRecord, _ event: String, client: String) -> [Double] {
        record.records.filter { $0.client == client && $0.event == event && $0.source == "client" }.map(\.time)
    }

    @Test func aRuleTimerThatOutlivesItsConnectionFindsItClosed() throws {
        // Found by `squall explore` (seed 1, schedule 602): reset_peer's timer was pending when the restart and the
        // handoff had closed and freed its connection; the rule chain read the freed connection and the simulator
        // crashed ("attempted to read an unowned reference"). Now the chain holds it weakly and finds it closed.
        let record = try self.simulate(
            """
            {"name": "timer-outlives-connection", "seed": 602, "timeScale": 0.1, "duration": "90s",
             "server": {"job": {"totalItems": 50, "itemInterval": "1s"}},
             "clients": [{"count": 1, "strategy": "resilient"}],
             "timeline": [
               {"at": "33085ms", "for": "8562ms", "action": "server_restart"},
               {"at": "37029ms", "handoff": {"mode": "reset", "blackout": "11997ms", "during": "blackhole"}},
               {"at": "35266ms", "for": "3162ms", "fault": {"type": "reset_peer", "attributes": {"timeout": 1042}}}],
             "gates": {"lost_messages": ["count==0"], "completion_rate": ["rate==1"]}}
            """
        )
        #expect(record.complete)
        #expect(record.verdict == .passed)
        #expect(record.runEvents.contains { if case .handoff? = $0.runnerEvent { true } else { false } })
    }

    @Test func aCutDecidedAtTheInstantAStreamOpensComesAfterItsHead() throws {
        // cut_stream passes the head and the replayed events, then closes, all at one virtual instant. A pass due
        // "now" was once converted to virtual milliseconds a fraction of a nanosecond late, so the close ran first
        // and the client read "connection closed before the answer" (1 of 5 reopenings at 10 423 ms in this very
        // scenario, `Tests/Fidelity/cut-stream-fails.json` before its window moved).
        let text = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fidelity/cut-stream-fails.json"),
            encoding: .utf8
        )
        for seed in [11, 12, 13] as [UInt64] {
            let record = try self.simulate(text.replacingOccurrences(of: "5250ms", with: "5s"), seed: seed)
            let reopenings = record.records.filter { $0.event == "connected" }.count
            #expect(reopenings > 20, "the cuts reopen many streams: \(reopenings)")
            let early = record.records.filter {
                $0.event == "connect_failed" && $0.string("reason") == "connection closed before the answer"
            }
            #expect(early.isEmpty, "seed \(seed): \(early.map(\.time))")
        }
    }

    @Test func anEventStreamReconnectedWithoutDelayStormsTheServerWhileItIsAway() throws {
        // A 3 s restart under event streams: the preset that reconnects after 2.5 ms tries about 400 times a second
        // (centrifuge-js PR #407); resilient-sse backs off (1 s, 2 s, …).
        func peak(_ preset: String) throws -> (peak: Double, passed: Bool) {
            let record = try self.simulate(
                #"""
                {"name": "storm", "duration": "30s", "server": {"job": {"totalItems": 40, "itemInterval": "500ms"}},
                 "clients": [{"count": 2, "strategy": "\#(preset)", "overrides": {"transports": ["sse"]}}],
                 "timeline": [{"at": "5s", "for": "3s", "action": "server_restart"}],
                 "gates": {"server_connect_rate_peak": ["count<20"], "completion_rate": ["rate==1"]}}
                """#
            )
            return (record.metrics.value(.connectRatePeak, .count) ?? 0, record.passed)
        }
        let storm = try peak("broken-sse-no-delay")
        #expect(storm.peak >= 700, "two clients, ~400 a second each: \(storm.peak)")
        #expect(!storm.passed)
        let calm = try peak("resilient-sse")
        #expect(calm.peak <= 4, "\(calm.peak)")
        #expect(calm.passed)
    }

    @Test func aRejectedUpgradeMakesTheResilientPresetFallBackAtTheTimesItsBackoffGives() throws {
        // No jitter: tries at 1 s (the start), then 1, 2, 4, 8 and 16 s later; the fifth reconnect fails at 32 s and
        // the client polls at once.
        let record = try self.simulate(
            #"""
            {"name": "reject", "duration": "60s", "server": {"job": {"totalItems": 100, "itemInterval": "1s"}},
             "clients": [{"count": 1, "startAt": "1s", "overrides": {"backoffJitter": 0}}],
             "timeline": [{"at": "0s", "fault": {"type": "block_upgrade", "attributes": {"mode": "reject", "status": 403}}}],
             "gates": {"time_to_fallback_ms": ["max<=31000"]}}
            """#
        )
        #expect(
            self.times(record, "connect_attempt", client: "resilient-1") == [
                1_000, 2_000, 4_000, 8_000, 16_000, 32_000,
            ]
        )
        #expect(self.times(record, "fallback", client: "resilient-1") == [32_000])
        #expect(self.times(record, "poll", client: "resilient-1").first == 32_000)
        let failures = record.records.filter { $0.event == "connect_failed" }.compactMap { $0.string("reason") }
        #expect(Set(failures) == ["upgrade rejected: HTTP 403 (WebSocket upgrade blocked by proxy)"])
        #expect(record.metrics.samples(.timeToFallback) == [31_000])
        #expect(record.passed)
        #expect(record.mode == "sim")
    }

    @Test func aRejectedUpgradeStepsTheSSELadderDownToAnEventStreamAtTheBackoffsTimes() throws {
        // As the WebSocket-only preset above, but the fifth reconnect's failure at 32 s steps down to an event
        // stream, which opens at once and carries the rest of the job.
        let record = try self.simulate(
            #"""
            {"name": "ladder", "duration": "60s", "server": {"job": {"totalItems": 50, "itemInterval": "1s"}},
             "clients": [{"count": 1, "startAt": "1s", "strategy": "resilient-sse", "overrides": {"backoffJitter": 0}}],
             "timeline": [{"at": "0s", "fault": {"type": "block_upgrade", "attributes": {"mode": "reject", "status": 403}}}],
             "gates": {"completion_rate": ["rate==1"], "lost_messages": ["count==0"], "duplicate_messages": ["count==0"]}}
            """#
        )
        let client = "resilient-sse-1"
        #expect(
            self.times(record, "connect_attempt", client: client).prefix(7) == [
                1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 32_000,
            ]
        )
        #expect(self.times(record, "stepped_down", client: client) == [32_000])
        #expect(record.records.first { $0.event == "stepped_down" }?.string("to") == "sse")
        #expect(self.times(record, "fallback", client: client).isEmpty)
        let via = Set(record.records.filter { $0.event == "delivered" }.compactMap { $0.string("via") })
        #expect(via == ["sse"])
        #expect(record.records.contains { $0.source == "server" && $0.event == "sse_opened" })
        #expect(record.passed, "\(record.gates.map(\.summary))")
    }

    @Test func anEventStreamResumesWithLastEventIdAfterARestartAndOneWithoutItRepeats() throws {
        for (preset, passes) in [("resilient-sse", true), ("broken-sse-no-last-event-id", false)] {
            let record = try self.simulate(
                #"""
                {"name": "restart", "duration": "40s", "server": {"job": {"totalItems": 20, "itemInterval": "1s"}},
                 "clients": [{"count": 3, "strategy": "\#(preset)", "overrides": {"transports": ["sse", "polling"]}}],
                 "timeline": [{"at": "8500ms", "for": "1s", "action": "server_restart"}],
                 "gates": {"completion_rate": ["rate==1"], "lost_messages": ["count==0"], "duplicate_messages": ["count==0"]}}
                """#
            )
            let opened = record.records.filter { $0.source == "server" && $0.event == "sse_opened" }
            #expect(opened.count >= 6, "\(preset): each client's stream, then its resumed one")
            let resumedIds = opened.compactMap { $0.string("lastEventId") }
            if passes {
                #expect(resumedIds.count == 3, "\(preset): \(resumedIds)")
                #expect(record.passed, "\(preset): \(record.gates.map(\.summary))")
            } else {
                #expect(resumedIds.isEmpty, "\(preset) never sends Last-Event-ID")
                #expect(!record.passed)
                #expect(record.metrics.value(.duplicateMessages, .count) ?? 0 > 0)
            }
        }
    }

    @Test func refusedAndDownProxiesFailTheConnectUntilTheFaultIsLifted() throws {
        // Tries at 1, 2 and 4 s fail while the fault holds (to 5 s); the try at 8 s opens.
        for (type, reason) in [("refuse", "connection reset"), ("down", "connection refused")] {
            let record = try self.simulate(
                #"""
                {"name": "\#(type)", "duration": "30s", "server": {"job": {"totalItems": 10, "itemInterval": "1s"}},
                 "clients": [{"count": 1, "startAt": "1s", "overrides": {"backoffJitter": 0}}],
                 "timeline": [{"at": "0s", "for": "5s", "fault": {"type": "\#(type)"}}]}
                """#
            )
            #expect(self.times(record, "connect_failed", client: "resilient-1") == [1_000, 2_000, 4_000], "\(type)")
            #expect(self.times(record, "connected", client: "resilient-1") == [8_000], "\(type)")
            let reasons = record.records.filter { $0.event == "connect_failed" }.compactMap { $0.string("reason") }
            #expect(Set(reasons) == [reason], "\(type)")
            #expect(record.passed, "\(type): \(record.gates.map(\.summary))")
        }
    }

    @Test func droppedPingsLetTheClientsHeartbeatExpireAtItsTimeout() throws {
        // One item every 100 s, so only pings keep the line alive; with them dropped the resilient client's 30 s
        // heartbeat runs out 30 s after its ready_ack.
        let record = try self.simulate(
            #"""
            {"name": "pings", "duration": "40s", "server": {"job": {"totalItems": 3, "itemInterval": "100s"}},
             "clients": [{"count": 1, "overrides": {"backoffJitter": 0}}],
             "timeline": [{"at": "0s", "fault": {"type": "drop_pings"}}]}
            """#
        )
        let closed = record.records.filter { $0.client == "resilient-1" && $0.event == "closed" }
        #expect(closed.first?.time == 30_000)
        #expect(closed.first?.string("reason") == "client closed: heartbeat timeout")
        #expect(self.times(record, "connect_attempt", client: "resilient-1") == [0, 31_000])
    }

    @Test func packetLossDropsMessagesByTheSharedRule() throws {
        // Every message toward the client lost for the first 5 s: nothing is delivered then; once lifted the
        // resilient client recovers and the job completes. With a partial loss some messages vanish and the run
        // is the same for the same seed.
        func run(_ lossRate: Double, seed: UInt64 = 1) throws -> RunRecord {
            try self.simulate(
                #"""
                {"name": "loss", "duration": "30s", "server": {"job": {"totalItems": 20, "itemInterval": "500ms"}},
                 "clients": [{"count": 1, "overrides": {"backoffJitter": 0}}],
                 "timeline": [{"at": "0s", "for": "5s", "fault": {"type": "packet_loss", "stream": "downstream", "attributes": {"loss_rate": \#(lossRate)}}}]}
                """#,
                seed: seed
            )
        }
        let lost = try run(1)
        let delivered = self.times(lost, "delivered", client: "resilient-1")
        #expect(delivered.allSatisfy { $0 >= 5_000 }, "nothing arrives while every message is lost: \(delivered)")
        #expect(!self.times(lost, "finished", client: "resilient-1").isEmpty)
        let clean = try run(0)
        #expect(self.times(clean, "delivered", client: "resilient-1").first! < 5_000)
        let partial = try run(0.3, seed: 4)
        #expect(try run(0.3, seed: 4).records.count == partial.records.count, "one seed, one run")
    }

    @Test func tcpLossLosesNoMessageButDelaysThem() throws {
        // Half the segments toward the client lost: every item still arrives, in order, but later than on a clean
        // line (each lost segment costs at least 200 ms).
        func run(_ lossRate: Double) throws -> [Double] {
            let record = try self.simulate(
                #"""
                {"name": "tcp", "duration": "60s", "server": {"job": {"totalItems": 20, "itemInterval": "500ms"}},
                 "clients": [{"count": 1, "overrides": {"backoffJitter": 0, "heartbeatTimeout": "never"}}],
                 "timeline": [{"at": "0s", "fault": {"type": "tcp_loss", "stream": "downstream", "attributes": {"loss_rate": \#(lossRate)}}}]}
                """#
            )
            return self.times(record, "delivered", client: "resilient-1")
        }
        let clean = try run(0)
        let lossy = try run(0.5)
        #expect(clean.count == 20 && lossy.count == 20, "nothing is lost: \(lossy.count) of 20")
        #expect(lossy == lossy.sorted(), "in order")
        #expect(zip(clean, lossy).allSatisfy { $0 <= $1 })
        #expect(zip(clean, lossy).contains { $1 - $0 >= 200 }, "some item waited for a retransmission")
    }

    @Test func failedPollsAndALimitedLifetimeActWhereTheyShould() throws {
        // Upgrades rejected, so the scanner polls every 2 s; every second job-state request answers 503. A second
        // group's WebSocket is cut 3 s after it opens by limit_time.
        let record = try self.simulate(
            #"""
            {"name": "polls", "duration": "12s", "server": {"job": {"totalItems": 100, "itemInterval": "1s"}},
             "clients": [{"name": "poller", "count": 1, "strategy": "booktrack-scanner"},
                         {"name": "aged", "count": 1, "overrides": {"backoffJitter": 0}}],
             "timeline": [{"at": "0s", "target": {"group": "poller"}, "fault": {"name": "wall", "type": "block_upgrade", "attributes": {"mode": "reject"}}},
                          {"at": "0s", "target": {"group": "poller"}, "fault": {"name": "flaky", "type": "fail_requests", "attributes": {"status": 503, "every": 2}}},
                          {"at": "0s", "target": {"group": "aged"}, "fault": {"name": "old", "type": "limit_time", "attributes": {"lifetime": 3000}}}]}
            """#
        )
        let statuses = record.records.filter { $0.client == "poller-1" && $0.event == "poll" }.map {
            $0.integer("status")
        }
        #expect(Array(statuses.prefix(4)) == [200, 503, 200, 503], "\(statuses)")
        #expect(self.times(record, "poll", client: "poller-1").prefix(3) == [0, 2_000, 4_000])
        let cut = record.records.filter { $0.client == "aged-1" && $0.event == "closed" }
        #expect(cut.first?.time == 3_000)
        #expect(cut.first?.string("reason") == "connection closed without a close frame")
    }

    @Test func aBufferingProxyReleasesTheServersFramesTogetherEveryInterval() throws {
        // The 101 arrives at 0; items are published every 300 ms; the proxy lets frames through only at whole
        // seconds after the upgrade.
        let record = try self.simulate(
            #"""
            {"name": "buffer", "duration": "10s", "server": {"job": {"totalItems": 10, "itemInterval": "300ms"}},
             "clients": [{"count": 1}],
             "timeline": [{"at": "0s", "fault": {"type": "block_upgrade", "attributes": {"mode": "buffer_after_101", "interval": 1000}}}]}
            """#
        )
        let delivered = self.times(record, "delivered", client: "resilient-1")
        #expect(delivered == [1_000, 1_000, 1_000, 2_000, 2_000, 2_000, 3_000, 3_000, 3_000, 3_000], "\(delivered)")
        #expect(record.passed)
    }

    @Test func oneSeedGivesAByteIdenticalLogAndAnotherSeedADifferentOne() throws {
        let text = #"""
            {"name": "herd", "seed": 3, "duration": "40s", "server": {"job": {"totalItems": 30, "itemInterval": "500ms"}},
             "network": "wifi", "clients": [{"count": 50, "rampUp": "2s"}],
             "timeline": [{"at": "5s", "handoff": {"mode": "reset", "blackout": "2s", "during": "refuse", "to": "lte"}}]}
            """#
        let first = try self.simulate(text)
        let again = try self.simulate(text)
        let other = try self.simulate(text, seed: 4)
        #expect(first.lines == again.lines)
        // The records the simulator builds as it writes are exactly what reading its lines back gives.
        let reread = try RunRecord(lines: first.lines)
        #expect(reread.records == first.records)
        #expect(reread.metrics == first.metrics)
        #expect(first.lines.count > 1_000)
        #expect(first.lines != other.lines, "the backoff jitter and the profile's jitter come from the seed")
        #expect(first.passed)
    }

    @Test func aBrokenPresetFailsItsGateInSimulationAsOnRealSockets() throws {
        let restart = { (strategy: String) in
            #"""
            {"name": "restart", "seed": 3, "duration": "40s", "server": {"job": {"totalItems": 40, "itemInterval": "500ms"}},
             "clients": [{"count": 4, "strategy": "\#(strategy)"}],
             "timeline": [{"at": "8s", "for": "3s", "action": "server_restart"}],
             "gates": {"duplicate_messages": ["count==0"], "lost_messages": ["count==0"], "completion_rate": ["rate==1"]}}
            """#
        }
        let sound = try self.simulate(restart("resilient"))
        #expect(sound.passed, "\(sound.gates.map(\.summary))")
        #expect(sound.metrics.value(.reconnectAttempts, .count)! > 0, "the restart was felt")
        let broken = try self.simulate(restart("broken-no-dedup"))
        #expect(!broken.passed)
        #expect(broken.metrics.value(.duplicateMessages, .count)! > 0)
        let forgetful = try self.simulate(restart("broken-no-resume"))
        #expect(!forgetful.passed)
        #expect(
            forgetful.metrics.value(.duplicateMessages, .count)! > 0
                || forgetful.metrics.value(.lostMessages, .count)! > 0
        )
        // A handoff that leaves every socket open and silent: only a heartbeat notices.
        let silent = try self.simulate(
            #"""
            {"name": "silent", "duration": "120s", "server": {"job": {"totalItems": 40, "itemInterval": "1s"}},
             "clients": [{"count": 2}, {"count": 2, "strategy": "broken-no-heartbeat"}],
             "timeline": [{"at": "5s", "handoff": {"mode": "blackhole"}}],
             "gates": {"completion_rate{strategy:resilient}": ["rate==1"],
                       "completion_rate{strategy:broken-no-heartbeat}": ["rate==1"]}}
            """#
        )
        let verdicts = Dictionary(uniqueKeysWithValues: silent.gates.map { ($0.gate.key, $0.passed) })
        #expect(verdicts["completion_rate{strategy:resilient}"] == true, "\(silent.gates.map(\.summary))")
        #expect(verdicts["completion_rate{strategy:broken-no-heartbeat}"] == false)
    }

    @Test func latencyAndAHandoffBlackoutShowInTheMetrics() throws {
        // 150 ms more on every frame toward the clients; every socket reset at 5 s with the network gone for 4 s.
        let record = try self.simulate(
            #"""
            {"name": "slow", "duration": "40s", "server": {"job": {"totalItems": 20, "itemInterval": "500ms"}},
             "clients": [{"count": 3}],
             "timeline": [{"at": "0s", "fault": {"name": "slow", "type": "latency", "stream": "downstream", "attributes": {"latency": 150}}},
                          {"at": "5s", "handoff": {"mode": "reset", "blackout": "4s", "during": "refuse"}, "expect": {"recoveredWithin": "10s"}}]}
            """#
        )
        let latencies = record.metrics.samples(.updateLatency)
        #expect(latencies.allSatisfy { $0 >= 150 }, "\(latencies.min() ?? 0)")
        // Nobody is back on WebSocket before the blackout ends (9 s); every client is back within 10 s of it.
        let recovered = record.metrics.samples(.stepRecovery)
        #expect(recovered.count == 3 && recovered.allSatisfy { $0 > 0 && $0 <= 10_000 }, "\(recovered)")
        let connected = record.records.filter { $0.event == "connected" && $0.time > 5_000 }.map(\.time)
        #expect(!connected.isEmpty && connected.allSatisfy { $0 >= 9_000 }, "\(connected)")
        #expect(record.metrics.value(.lostMessages, .count) == 0)
    }

    @Test func whatTheSimulatorCannotRunIsRefusedNamingEveryPath() throws {
        let scenario = try Scenario(
            bytes: Array(
                #"""
                {"name": "own", "duration": "10s", "server": {"url": "http://127.0.0.1:9/"},
                 "clients": [{"count": 1, "command": ["/bin/true"]}, {"name": "other", "count": 1, "command": ["/bin/true"]}]}
                """#.utf8
            )
        )
        let error = try #require(throws: FaultError.self) { try SimulationRunner.check(scenario) }
        let text = "\(error)"
        for path in ["server.url", "clients[0].command", "clients[1].command"] {
            #expect(text.contains(path), "\(text)")
        }
    }

    @Test func theSimulatorTakesFarMoreClientsThanARealRun() throws {
        let text = #"{"name": "big", "duration": "5s", "clients": [{"count": 20000}]}"#
        #expect(throws: FaultError.self) { try Scenario(bytes: Array(text.utf8)) }
        let record = try self.simulate(
            #"{"name": "big", "duration": "12s", "server": {"job": {"totalItems": 3, "itemInterval": "1s"}}, "clients": [{"count": 6000, "rampUp": "5s"}], "gates": {"completion_rate": ["rate==1"]}}"#
        )
        #expect(record.metrics.clients.count == 6_000)
        #expect(record.passed)
    }
}
