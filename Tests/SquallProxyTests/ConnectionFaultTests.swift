import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

/// Connect-phase faults, taking a proxy down, and the upstream connect that must never block other clients.
@Suite struct ConnectionFaultTests {
    @Test func refuseResetsWithoutContactingTheServer() async throws {
        try await withProxy(faults: [try fault(.refuse)]) { proxy, server in
            let end = try await blocking {
                // No send first: Linux reports a reset once, to whichever call comes first, so a send racing the
                // RST would hide it from the read.
                let socket = try BlockingSocket(port: proxy.port)
                return socket.readToEnd(timeout: 5).end
            }
            #expect(end == .reset)
            #expect(server.acceptedConnections == 0)
        }
    }

    @Test func slowOpenDelaysTheUpstreamConnect() async throws {
        try await withProxy(faults: [try fault(.slowOpen, ["delay": 300])]) { proxy, _ in
            let (reply, elapsed) = try await blocking {
                let start = now()
                let socket = try BlockingSocket(port: proxy.port)
                try socket.send("hi")
                let reply = socket.read(timeout: 5)
                return (reply, now() - start)
            }
            #expect(reply == .data(Array("hi".utf8)))
            #expect(elapsed >= 0.300)
            #expect(elapsed < 3)
        }
    }

    @Test func connectBlackholeNeverAnswersNorConnects() async throws {
        try await withProxy(faults: [try fault(.connectBlackhole)]) { proxy, server in
            let outcome = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                try socket.send("anyone there?")
                return socket.read(timeout: 0.5)
            }
            #expect(outcome == .timedOut)
            #expect(server.acceptedConnections == 0)
        }
    }

    @Test func clientsThatResetRightAfterConnectingAreNeitherKeptNorCountedAsConnectFailures() async throws {
        try await withProxy { proxy, server in
            let clients = 500
            try await blocking {
                for _ in 0..<clients {
                    let socket = try BlockingSocket(port: proxy.port)
                    socket.resetOnClose()
                }
            }
            let settled = await Eventually.wait(timeout: 10) {
                proxy.metrics.connectionsClosed.value == clients && proxy.connections.isEmpty
            }
            #expect(
                settled,
                "closed \(proxy.metrics.connectionsClosed.value) of \(clients), \(proxy.connections.count) kept"
            )
            #expect(proxy.metrics.connectFailures.value == 0, "the server was reachable all along")
            #expect(proxy.metrics.connectionsAccepted.value == clients)
            _ = server
        }
    }

    @Test func disablingRefusesNewConnectionsAndClosesLiveOnes() async throws {
        try await withProxy { proxy, _ in
            let live = try await blocking { try BlockingSocket(port: proxy.port) }
            try await blocking { try live.send("x") }
            #expect(try await blocking { live.read(timeout: 5) } == .data(Array("x".utf8)))
            let port = proxy.port
            try await proxy.setEnabled(false)
            #expect(try await blocking { live.readToEnd(timeout: 5).end } == .endOfFile)
            let refused = try await blocking { () -> Bool in
                do {
                    _ = try BlockingSocket(port: port)
                    return false
                } catch {
                    return "\(error)".contains("refused")
                }
            }
            #expect(refused)
            try await proxy.setEnabled(true)
            #expect(proxy.port == port, "re-enabling listens on the same port")
            let echoed = try await blocking {
                let socket = try BlockingSocket(port: port)
                try socket.send("back")
                return socket.read(timeout: 5)
            }
            #expect(echoed == .data(Array("back".utf8)))
        }
    }

    @Test func downFaultTakesTheProxyDownUntilRemoved() async throws {
        try await withProxy { proxy, _ in
            let port = proxy.port
            try await proxy.addFault(try fault(.down, name: "outage"))
            let refused = try await blocking { (try? BlockingSocket(port: port)) == nil }
            #expect(refused)
            try await proxy.removeFault(named: "outage")
            let echoed = try await blocking {
                let socket = try BlockingSocket(port: port)
                try socket.send("up")
                return socket.read(timeout: 5)
            }
            #expect(echoed == .data(Array("up".utf8)))
        }
    }

    @Test func aSlowUpstreamConnectDoesNotBlockOtherClients() async throws {
        try await withProxy(faults: [try fault(.slowOpen, name: "stall", ["delay": 10_000])]) { proxy, _ in
            let first = try await blocking { try BlockingSocket(port: proxy.port) }
            try await blocking { try first.send("first") }
            #expect(await Eventually.wait { proxy.connections.count == 1 }, "the proxy has accepted the first client")
            // Connections are set up on their own event loop: wait until the stall has really taken the first one.
            #expect(
                await Eventually.wait { proxy.metrics.faultsApplied(named: "stall") == 1 },
                "the stall acts on the first client"
            )
            // The first client's connect to the server is stalled for 10 s; a second client that arrives after the
            // stall is lifted must be served at once.
            try await proxy.removeFault(named: "stall")
            let (reply, elapsed) = try await blocking {
                let start = now()
                let second = try BlockingSocket(port: proxy.port)
                try second.send("second")
                return (second.read(timeout: 5), now() - start)
            }
            #expect(reply == .data(Array("second".utf8)))
            #expect(elapsed < 1)
            #expect(try await blocking { first.read(timeout: 0.2) } == .timedOut, "the first is still stalled")
        }
    }

    @Test func aDeadUpstreamClosesTheClientAndCountsTheFailure() async throws {
        let server = try await LoopbackServer.start(.echo)
        let deadPort = server.port
        await server.stop()
        let proxy = ProxyServer(
            configuration: ProxyConfiguration(name: "dead", upstream: HostAndPort(host: "127.0.0.1", port: deadPort))
        )
        try await proxy.start()
        let end = try await blocking {
            let socket = try BlockingSocket(port: proxy.port)
            return socket.readToEnd(timeout: 5).end
        }
        #expect(end == .endOfFile)
        #expect(await Eventually.wait { proxy.metrics.connectFailures.value == 1 })
        #expect(await Eventually.wait { proxy.metrics.connectionsActive.value == 0 })
        await proxy.stop()
    }

    @Test func sameSeedDrawsTheSameToxicityOutcomes() async throws {
        func outcomes(seed: UInt64, addSecondFault: Bool) async throws -> [[String]] {
            try await withProxy(faults: [try fault(.latency, name: "half", toxicity: 0.5, ["latency": 1])], seed: seed)
            {
                proxy,
                _ in
                var sockets: [BlockingSocket] = []
                for _ in 0..<20 {
                    sockets.append(try await blocking { try BlockingSocket(port: proxy.port) })
                }
                #expect(await Eventually.wait { proxy.connections.count == 20 })
                if addSecondFault {
                    try await proxy.addFault(try fault(.latency, name: "other", toxicity: 0.5, ["latency": 1]))
                }
                let result = proxy.connections.map { $0.activeFaults.filter { $0 == "half" } }
                withExtendedLifetime(sockets) {}
                return result
            }
        }
        let first = try await outcomes(seed: 42, addSecondFault: false)
        let second = try await outcomes(seed: 42, addSecondFault: true)
        let otherSeed = try await outcomes(seed: 7, addSecondFault: false)
        let hit = first.filter { !$0.isEmpty }.count
        #expect(first == second, "same seed, same draws; adding another fault re-draws nothing")
        #expect(hit > 2 && hit < 18, "toxicity 0.5 hits some connections, not all")
        #expect(first != otherSeed)
    }

    @Test func toxicityDecidesWhichConnectionsFeelTheFault() async throws {
        try await withProxy(faults: [try fault(.latency, name: "half", toxicity: 0.5, ["latency": 200])], seed: 3) {
            proxy,
            _ in
            var slow = 0
            var fast = 0
            for _ in 0..<12 {
                let elapsed = try await blocking {
                    let socket = try BlockingSocket(port: proxy.port)
                    let start = now()
                    try socket.send("x")
                    _ = socket.read(timeout: 5)
                    return now() - start
                }
                if elapsed >= 0.2 { slow += 1 } else { fast += 1 }
            }
            let half = try fault(.latency, name: "half", toxicity: 0.5)
            let expectedSlow = (1...12).filter {
                half.acts(onConnection: UInt64($0), origin: nil, proxy: "test", seeds: SeedTree(seed: 3))
            }.count
            #expect(slow == expectedSlow)
            #expect(slow > 0 && fast > 0)
        }
    }
}
