import Foundation
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

/// Faults that target clients, and toxicity draws keyed by client, over real sockets: the proxy learns which client
/// opened a connection from the local port the client reported before connecting.
@Suite struct ConnectionOriginTests {
    private func withOriginProxy<Result>(
        faults: [Fault],
        seed: UInt64 = 7,
        _ body: (ProxyServer, ConnectionOriginRegistry) async throws -> Result
    ) async throws -> Result {
        let server = try await LoopbackServer.start(.echo)
        let origins = ConnectionOriginRegistry()
        let proxy = ProxyServer(
            configuration: ProxyConfiguration(
                name: "origins",
                upstream: HostAndPort(host: "127.0.0.1", port: server.port),
                faults: faults
            ),
            seed: seed,
            origins: origins
        )
        try await proxy.start()
        defer { Task { await server.stop() } }
        do {
            let result = try await body(proxy, origins)
            await proxy.stop()
            return result
        } catch {
            await proxy.stop()
            throw error
        }
    }

    /// Connects as `client`, reporting the local port first; nil client: an unreported connection.
    private func connect(_ port: Int, as client: String?, _ origins: ConnectionOriginRegistry) throws -> BlockingSocket
    {
        guard let client else { return try BlockingSocket(port: port) }
        return try BlockingSocket(port: port) { localPort in
            origins.register(port: localPort, toPort: port, client: client)
        }
    }

    @Test func aFaultWithAClientSelectorHitsOnlyThoseClients() async throws {
        var refuse = try fault(.refuse)
        refuse.clients = ["web-2"]
        try await self.withOriginProxy(faults: [refuse]) { proxy, origins in
            let port = proxy.port
            let outcomes = try await blocking { () throws -> [String: BlockingSocket.ReadOutcome] in
                var outcomes: [String: BlockingSocket.ReadOutcome] = [:]
                for client in ["web-1", "web-2", nil] as [String?] {
                    let socket = try self.connect(port, as: client, origins)
                    if client != "web-2" { try socket.send("hi") }
                    outcomes[client ?? "unreported"] = socket.read(timeout: 5)
                }
                return outcomes
            }
            #expect(outcomes["web-2"] == .reset, "the selected client is refused")
            #expect(outcomes["web-1"] == .data(Array("hi".utf8)), "another client is left alone")
            #expect(outcomes["unreported"] == .data(Array("hi".utf8)), "a connection of no known client is left alone")
        }
    }

    @Test func theListingNamesEachConnectionsClient() async throws {
        try await self.withOriginProxy(faults: []) { proxy, origins in
            let port = proxy.port
            let sockets = try await blocking {
                [try self.connect(port, as: "web-1", origins), try self.connect(port, as: nil, origins)]
            }
            #expect(await Eventually.wait { proxy.connections.count == 2 })
            // Two listeners (one per loop) may accept the two in either order, so the ids may come either way.
            #expect(proxy.connections.map(\.client).sorted { ($0 ?? "") < ($1 ?? "") } == [nil, "web-1"])
            _ = sockets
        }
    }

    @Test func aClientThatReportsItsPortAfterConnectingIsStillTargeted() async throws {
        // As the reference clients do: announce, let the kernel pick the port at connect, report it afterwards. The
        // proxy has accepted by then and waits for the report before it applies its faults.
        var refuse = try fault(.refuse)
        refuse.clients = ["web-2"]
        try await self.withOriginProxy(faults: [refuse]) { proxy, origins in
            let port = proxy.port
            let outcomes = try await blocking { () throws -> [String: BlockingSocket.ReadOutcome] in
                var outcomes: [String: BlockingSocket.ReadOutcome] = [:]
                for client in ["web-1", "web-2"] {
                    let announced = origins.announce(client: client)
                    let socket = try BlockingSocket(port: port)
                    // An unreported connection made while the announced one is outstanding is nobody's.
                    let stranger = try BlockingSocket(port: port)
                    Thread.sleep(forTimeInterval: 0.05)
                    origins.connected(serial: announced.serial, port: socket.localPort, toPort: port)
                    if client != "web-2" { try socket.send("hi") }
                    try stranger.send("yo")
                    outcomes[client] = socket.read(timeout: 5)
                    outcomes["stranger of \(client)"] = stranger.read(timeout: 5)
                }
                return outcomes
            }
            #expect(outcomes["web-2"] == .reset, "the selected client is refused once it reports")
            #expect(outcomes["web-1"] == .data(Array("hi".utf8)), "another client is left alone")
            #expect(outcomes["stranger of web-1"] == .data(Array("yo".utf8)))
            #expect(outcomes["stranger of web-2"] == .data(Array("yo".utf8)))
        }
    }

    /// Which of 30 clients' connections a 50 % fault hits, with the clients connecting in `order`.
    private func hits(order: [Int], seed: UInt64) async throws -> [String: Bool] {
        let latency = try fault(.latency, name: "half", toxicity: 0.5, ["latency": 1])
        return try await self.withOriginProxy(faults: [latency], seed: seed) { proxy, origins in
            let port = proxy.port
            let sockets = try await blocking {
                try order.map { try self.connect(port, as: "web-\($0)", origins) }
            }
            #expect(await Eventually.wait { proxy.connections.count == order.count })
            var hits: [String: Bool] = [:]
            for connection in proxy.connections {
                hits[connection.client ?? "?"] = connection.activeFaults.contains("half")
            }
            _ = sockets
            return hits
        }
    }

    @Test func toxicityHitsTheSameClientsWhateverOrderTheyConnectIn() async throws {
        let forward = try await self.hits(order: Array(1...30), seed: 7)
        let reversed = try await self.hits(order: Array((1...30).reversed()), seed: 7)
        #expect(forward.count == 30)
        #expect(forward == reversed, "keyed by client, not by accept order")
        let hitCount = forward.values.filter { $0 }.count
        #expect(hitCount > 5 && hitCount < 25, "about half of 30: \(hitCount)")
        let otherSeed = try await self.hits(order: Array(1...30), seed: 8)
        #expect(otherSeed != forward, "another seed draws other clients")
    }
}
