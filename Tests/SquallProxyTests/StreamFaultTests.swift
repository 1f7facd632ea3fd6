import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One test per byte-stream fault, each asserting what a real peer observes over loopback.
@Suite struct StreamFaultTests {
    @Test func latencyDelaysEachChunkFromItsArrival() async throws {
        try await withProxy(faults: [try fault(.latency, ["latency": 50])]) { proxy, _ in
            let delays = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                var delays: [Double] = []
                for _ in 0..<5 {
                    let start = now()
                    try socket.send("ping")
                    guard case .data = socket.read(timeout: 5) else { return [Double]() }
                    delays.append(now() - start)
                }
                return delays
            }
            #expect(delays.count == 5)
            for delay in delays {
                #expect(delay >= 0.050)
                #expect(delay < 0.5)
            }
        }
    }

    @Test func latencyIsPipelinedNotCumulative() async throws {
        try await withProxy(faults: [try fault(.latency, ["latency": 100])]) { proxy, _ in
            let arrivals = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                let start = now()
                for index in 0..<10 {
                    try socket.send([UInt8(index)])
                    usleep(10_000)
                }
                var arrivals: [Double] = []
                var received = 0
                while received < 10, case .data(let bytes) = socket.read(timeout: 5) {
                    received += bytes.count
                    arrivals.append(now() - start)
                }
                return arrivals
            }
            // Ten one-byte messages sent 10 ms apart through 100 ms of latency all arrive within about
            // 100 + 90 ms, not after 1 s as a cumulative delay would give.
            #expect(arrivals.first! >= 0.100)
            #expect(arrivals.last! < 0.6)
        }
    }

    @Test func jitterStaysWithinItsBounds() async throws {
        try await withProxy(faults: [try fault(.latency, ["latency": 40, "jitter": 20])]) { proxy, _ in
            let delays = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                var delays: [Double] = []
                for _ in 0..<10 {
                    let start = now()
                    try socket.send("x")
                    guard case .data = socket.read(timeout: 5) else { break }
                    delays.append(now() - start)
                }
                return delays
            }
            #expect(delays.count == 10)
            #expect(delays.allSatisfy { $0 >= 0.020 && $0 < 0.5 })
            #expect(Set(delays.map { Int($0 * 1000) }).count > 1, "jitter should vary the delay")
        }
    }

    @Test func bandwidthLimitsTheTransferRate() async throws {
        let total = 60_000
        try await withProxy(server: .send(count: total), faults: [try fault(.bandwidth, ["rate": 100])]) { proxy, _ in
            let (count, elapsed) = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                let start = now()
                let result = socket.read(exactly: total, timeout: 5)
                return (result.bytes.count, now() - start)
            }
            #expect(count == total)
            // 60 KB at 100 KB/s with a 1 KB starting bucket and one 10 ms piece of slack takes at least
            // (60 000 - 1 000 - 1 000) / 100 000 s = 0.58 s from the proxy's accept, which comes a little before the
            // client starts its clock.
            #expect(elapsed >= 0.575)
            #expect(elapsed < 3)
        }
    }

    @Test(arguments: [("fin", BlockingSocket.ReadOutcome.endOfFile), ("reset", .reset)])
    func idleTimeoutClosesASilentConnection(close: String, expected: BlockingSocket.ReadOutcome) async throws {
        let idle = try Fault(type: .idleTimeout, attributes: ["timeout": 200], text: ["close": close])
        try await withProxy(faults: [idle]) { proxy, _ in
            let (echoed, end, elapsed) = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                try socket.send("hi")
                let echoed = socket.read(exactly: 2, timeout: 5).bytes
                let start = now()
                let end = socket.readToEnd(timeout: 5).end
                return (echoed, end, now() - start)
            }
            #expect(echoed == Array("hi".utf8), "data passes untouched")
            #expect(end == expected)
            #expect(elapsed >= 0.19, "not before the timeout: \(elapsed)")
            #expect(elapsed < 2, "\(elapsed)")
        }
    }

    @Test func idleTimeoutIsKeptAliveByTrafficEitherWay() async throws {
        let idle = try Fault(type: .idleTimeout, attributes: ["timeout": 300])
        try await withProxy(faults: [idle]) { proxy, _ in
            let (alive, end, silentFor) = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                // A byte (and its echo) every 100 ms for 900 ms: three times the timeout, never idle.
                var alive = true
                for _ in 0..<9 {
                    try socket.send("x")
                    if socket.read(exactly: 1, timeout: 1).bytes != Array("x".utf8) { alive = false }
                    usleep(100_000)
                }
                let start = now()
                let end = socket.readToEnd(timeout: 5).end
                return (alive, end, now() - start)
            }
            #expect(alive, "traffic kept it open past the timeout")
            #expect(end == .endOfFile)
            #expect(silentFor >= 0.19, "closed only once silent for the timeout (less the last 100 ms): \(silentFor)")
        }
    }

    @Test func idleTimeoutPresetsCarryTheirVendorsTimeouts() throws {
        let alb = try Fault(type: .idleTimeout, text: ["preset": "aws-alb"])
        let cloudflare = try Fault(type: .idleTimeout, text: ["preset": "cloudflare"])
        #expect(alb.json["attributes"]?["preset"] == .string("aws-alb"))
        #expect(IdleTimeoutPreset.awsALB.timeout == .seconds(60))
        #expect(IdleTimeoutPreset.cloudflare.timeout == .seconds(100))
        #expect(IdleTimeoutPreset.cloudfront.timeout == .seconds(600))
        #expect(cloudflare.type == .idleTimeout)
        #expect(throws: FaultError.self) { try Fault(type: .idleTimeout, text: ["preset": "haproxy"]) }
    }

    @Test func bandwidthRateZeroPausesUntilLifted() async throws {
        try await withProxy(server: .send(count: 5), faults: [try fault(.bandwidth, name: "pause", ["rate": 0])]) {
            proxy,
            _ in
            let socket = try await blocking { try BlockingSocket(port: proxy.port) }
            let held = try await blocking { socket.read(timeout: 0.5) }
            #expect(held == .timedOut)
            try await proxy.removeFault(named: "pause")
            let released = try await blocking { socket.read(timeout: 5) }
            #expect(released == .data(Array(repeating: 0x61, count: 5)))
        }
    }

    @Test func slicerCutsChunksIntoDelayedPieces() async throws {
        let slicer = try fault(.slicer, ["average_size": 100, "size_variation": 20, "delay": 5000])
        try await withProxy(server: .send(count: 2000), faults: [slicer]) { proxy, _ in
            let (reads, total, elapsed) = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                let start = now()
                var reads: [Int] = []
                var total = 0
                while total < 2000, case .data(let bytes) = socket.read(timeout: 5) {
                    reads.append(bytes.count)
                    total += bytes.count
                }
                return (reads, total, now() - start)
            }
            #expect(total == 2000)
            // Pieces of 80–120 bytes with 5 ms between them: at least ⌈2000 / 120⌉ = 17 pieces, so at least 16
            // pauses (the pieces' sizes are drawn, so that is the bound that always holds; about 19 is typical).
            #expect(reads.count >= 10)
            #expect(reads.allSatisfy { $0 <= 240 })
            #expect(elapsed >= 0.016 * 5)
        }
    }

    @Test func slowCloseDelaysTheFin() async throws {
        try await withProxy(
            server: .replyAfterEOF(reply: Array("bye".utf8)),
            faults: [try fault(.slowClose, ["delay": 300])]
        ) { proxy, _ in
            let (bytes, end, elapsed) = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                let start = now()
                socket.shutdownWrite()
                let (bytes, end) = socket.readToEnd(timeout: 5)
                return (bytes, end, now() - start)
            }
            #expect(bytes == Array("bye".utf8))
            #expect(end == .endOfFile)
            #expect(elapsed >= 0.300)
            #expect(elapsed < 3)
        }
    }

    @Test func limitDataForwardsExactlyTheLimitThenCloses() async throws {
        try await withProxy(faults: [try fault(.limitData, ["bytes": 10])]) { proxy, _ in
            let (bytes, end) = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                try socket.send(Array(repeating: 7, count: 20))
                return socket.readToEnd(timeout: 5)
            }
            #expect(bytes == Array(repeating: 7, count: 10))
            #expect(end == .endOfFile)
        }
    }

    @Test func timeoutDropsDataAndClosesWhenIdle() async throws {
        try await withProxy(faults: [try fault(.timeout, .upstream, ["timeout": 300])]) { proxy, server in
            let (bytes, end, elapsed) = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                try socket.send("dropped")
                let start = now()
                let (bytes, end) = socket.readToEnd(timeout: 5)
                return (bytes, end, now() - start)
            }
            #expect(bytes.isEmpty)
            #expect(end == .endOfFile)
            #expect(elapsed >= 0.290)
            #expect(elapsed < 3)
        }
    }

    @Test func timeoutIsKeptAliveByTrafficButLimitTimeIsNot() async throws {
        let faults = [
            try fault(.timeout, .upstream, name: "idle", ["timeout": 200]),
            try fault(.limitTime, ["lifetime": 600]),
        ]
        try await withProxy(faults: faults) { proxy, _ in
            let (closedAfter, end) = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                let start = now()
                // A ping every 50 ms keeps the idle timeout from firing; only the lifetime ends the connection.
                while now() - start < 3 {
                    try? socket.send("ping")
                    let outcome = socket.read(timeout: 0.05)
                    if outcome == .endOfFile || outcome == .reset {
                        return (now() - start, outcome)
                    }
                }
                return (now() - start, BlockingSocket.ReadOutcome.timedOut)
            }
            #expect(end == .endOfFile)
            #expect(closedAfter >= 0.590)
            #expect(closedAfter < 2.5)
        }
    }

    @Test func resetPeerSendsARealRst() async throws {
        try await withProxy(server: .send(count: 10), faults: [try fault(.resetPeer)]) { proxy, _ in
            let outcome = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                return socket.readToEnd(timeout: 5)
            }
            #expect(outcome.bytes.isEmpty)
            #expect(outcome.end == .reset)
        }
    }

    @Test func resetPeerResetsConnectionsOpenedBeforeIt() async throws {
        try await withProxy { proxy, _ in
            let socket = try await blocking { try BlockingSocket(port: proxy.port) }
            try await blocking { try socket.send("before") }
            #expect(try await blocking { socket.read(timeout: 5) } == .data(Array("before".utf8)))
            try await proxy.addFault(try fault(.resetPeer, ["timeout": 100]))
            let (elapsed, end) = try await blocking {
                let start = now()
                try socket.send("after")
                let (_, end) = socket.readToEnd(timeout: 5)
                return (now() - start, end)
            }
            #expect(end == .reset)
            #expect(elapsed >= 0.100)
        }
    }

    @Test func resetPeerWithToxicityZeroLeavesConnectionsAlone() async throws {
        try await withProxy(faults: [try fault(.resetPeer, toxicity: 0)]) { proxy, _ in
            let (bytes, end) = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                try socket.send("hello")
                guard case .data(let bytes) = socket.read(timeout: 5) else {
                    return ([UInt8](), BlockingSocket.ReadOutcome.timedOut)
                }
                socket.shutdownWrite()
                return (bytes, socket.readToEnd(timeout: 5).end)
            }
            #expect(bytes == Array("hello".utf8))
            #expect(end == .endOfFile, "a connection the toxicity draw left alone must close with FIN, not RST")
        }
    }

    @Test func blackholeKeepsTheSocketOpenAndSilent() async throws {
        try await withProxy(server: .send(count: 100), faults: [try fault(.blackhole, name: "hole")]) { proxy, _ in
            let socket = try await blocking { try BlockingSocket(port: proxy.port) }
            let silent = try await blocking { socket.read(timeout: 0.5) }
            #expect(silent == .timedOut, "half-open: no data and no FIN")
            try await blocking { try socket.send("still writable") }
            #expect(try await blocking { socket.read(timeout: 0.3) } == .timedOut)
            #expect(proxy.connections.count == 1)
            try await proxy.removeFault(named: "hole")
            let end = try await blocking { socket.readToEnd(timeout: 5).end }
            #expect(end == .endOfFile, "lifting a blackhole closes the connections it swallowed data from")
        }
    }

    @Test func faultsAddedAndRemovedActOnAnOpenConnection() async throws {
        try await withProxy { proxy, _ in
            let socket = try await blocking { try BlockingSocket(port: proxy.port) }
            @Sendable func roundTrip() throws -> Double {
                let start = now()
                try socket.send("x")
                guard case .data = socket.read(timeout: 5) else { return .infinity }
                return now() - start
            }
            let before = try await blocking { try roundTrip() }
            try await proxy.addFault(try fault(.latency, name: "slow", ["latency": 150]))
            let during = try await blocking { try roundTrip() }
            try await proxy.removeFault(named: "slow")
            let after = try await blocking { try roundTrip() }
            #expect(before < 0.1)
            #expect(during >= 0.150 && during < 1)
            #expect(after < 0.1)
        }
    }

    @Test func updatingAFaultChangesItInPlace() async throws {
        try await withProxy(faults: [try fault(.latency, name: "slow", ["latency": 20])]) { proxy, _ in
            let socket = try await blocking { try BlockingSocket(port: proxy.port) }
            let updated = try proxy.faults[0].updating(attributes: .object(["latency": .number(200)]), toxicity: nil)
            try await proxy.updateFault(updated)
            let elapsed = try await blocking {
                let start = now()
                try socket.send("x")
                _ = socket.read(timeout: 5)
                return now() - start
            }
            #expect(elapsed >= 0.200)
        }
    }
}
