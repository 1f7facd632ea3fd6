import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

/// `packet_loss` over real sockets: whole chunks vanish, as the shared rule (``ChunkLoss``) decides with the
/// connection's seeded generator.
@Suite struct PacketLossTests {
    /// Sends `rounds` one-byte chunks through an echo proxy, each after the last one's echo (or 40 ms of silence),
    /// so each is a chunk of its own; returns which came back.
    private func echoes(
        lossRate: Double,
        correlation: Double = 0,
        seed: UInt64,
        rounds: Int = 60
    ) async throws
        -> [Bool]
    {
        let loss = try Fault(
            name: "lossy",
            type: .packetLoss,
            direction: .upstream,
            attributes: ["loss_rate": lossRate, "correlation": correlation]
        )
        return try await withProxy(faults: [loss], seed: seed) { proxy, _ in
            try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                return try (0..<rounds).map { index -> Bool in
                    try socket.send([UInt8(index)])
                    guard case .data(let bytes) = socket.read(timeout: 0.04) else { return false }
                    return bytes == [UInt8(index)]
                }
            }
        }
    }

    @Test func noLossPassesEveryChunkAndFullLossNone() async throws {
        #expect(try await self.echoes(lossRate: 0, seed: 1, rounds: 20).allSatisfy { $0 })
        #expect(try await self.echoes(lossRate: 1, seed: 1, rounds: 20).allSatisfy { !$0 })
    }

    @Test func theChunksDroppedAreTheOnesTheSharedRuleDraws() async throws {
        // The proxy's drops are exactly ChunkLoss's draws from the connection's seeded generator (proxy "test",
        // connection 1, upstream, fault "lossy"): the same rule the simulator applies.
        let passed = try await self.echoes(lossRate: 0.4, correlation: 0.3, seed: 11)
        var rule = ChunkLoss(lossRate: 0.4, correlation: 0.3)
        var random = SeedTree(seed: 11).stream(proxy: "test", connection: "1", direction: .upstream, fault: "lossy")
        let expected = passed.indices.map { _ in !rule.dropsNext(using: &random) }
        #expect(passed == expected)
        #expect(passed.contains(true) && passed.contains(false))
        let other = try await self.echoes(lossRate: 0.4, correlation: 0.3, seed: 12)
        #expect(other != passed, "another seed drops other chunks")
    }

    @Test func theControlAPITakesToxiproxysPacketLoss() async throws {
        let api = try await ControlAPIHarness.start()
        let server = try await LoopbackServer.start(.echo)
        _ = try await api.createProxy("lossy", upstream: server.port)
        let created = try await api.request("POST", "/proxies/lossy/toxics", #"{"type": "packet_loss"}"#)
        #expect(created.status == 200)
        #expect(created.json?["attributes"]?["loss_rate"] == .number(0.1), "Toxiproxy's default")
        #expect(created.json?["attributes"]?["correlation"] == .number(0))
        let invalid = try await api.request(
            "POST",
            "/proxies/lossy/toxics",
            #"{"name": "bad", "type": "packet_loss", "attributes": {"loss_rate": 2}}"#
        )
        #expect(invalid.status == 400)
        #expect(invalid.body.contains("attributes.loss_rate"), "\(invalid.body)")
        await server.stop()
        await api.stop()
    }
}

/// `tcp_loss` over real sockets: no byte is lost, but a chunk whose segments were lost arrives a retransmission
/// timeout (or several) late, as the shared rule (``SegmentLoss``) draws.
@Suite struct TCPLossTests {
    @Test func everyByteArrivesInOrderEachChunkAsLateAsTheRuleSays() async throws {
        let loss = try Fault(
            name: "tcp",
            type: .tcpLoss,
            direction: .upstream,
            attributes: ["loss_rate": 0.3, "segment_size": 1448]
        )
        let rounds = 12
        let (echoes, elapsed) = try await withProxy(faults: [loss], seed: 21) { proxy, _ in
            try await blocking { () -> ([Bool], [Double]) in
                let socket = try BlockingSocket(port: proxy.port)
                var echoes: [Bool] = []
                var elapsed: [Double] = []
                for index in 0..<rounds {
                    let start = now()
                    try socket.send([UInt8(index)])
                    let answer = socket.read(exactly: 1, timeout: 10)
                    echoes.append(answer.bytes == [UInt8(index)])
                    elapsed.append(now() - start)
                }
                return (echoes, elapsed)
            }
        }
        #expect(echoes.allSatisfy { $0 }, "no byte is lost")
        var rule = SegmentLoss(lossRate: 0.3, correlation: 0, segmentSize: 1448)
        var random = SeedTree(seed: 21).stream(proxy: "test", connection: "1", direction: .upstream, fault: "tcp")
        var stalled = 0
        for round in 0..<rounds {
            // Each round waits for its echo, so nothing is behind: the stall counts from the chunk's arrival.
            let arrival = Duration.seconds(1_000 * round)
            guard case .deliver(let time, _) = rule.chunk(bytes: 1, arrivedAt: arrival, using: &random) else {
                Issue.record("the rule gave up on a 1-byte chunk")
                continue
            }
            let stall = time - arrival
            let seconds = Double(stall.components.seconds) + Double(stall.components.attoseconds) / 1e18
            if seconds > 0 { stalled += 1 }
            #expect(elapsed[round] >= seconds, "round \(round): \(elapsed[round]) s, the rule's stall \(seconds) s")
            #expect(
                elapsed[round] < seconds + 0.5,
                "round \(round): \(elapsed[round]) s, the rule's stall \(seconds) s"
            )
        }
        #expect(stalled > 0 && stalled < rounds, "some chunks stalled, not all")
    }
}
