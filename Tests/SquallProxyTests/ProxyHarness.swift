import NIOCore
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport

/// Starts a loopback server and a proxy in front of it, runs `body`, and stops both.
func withProxy<Result>(
    server behavior: LoopbackServer.Behavior = .echo,
    faults: [Fault] = [],
    seed: UInt64 = 1,
    _ body: (ProxyServer, LoopbackServer) async throws -> Result
) async throws -> Result {
    let server = try await LoopbackServer.start(behavior)
    let proxy = ProxyServer(
        configuration: ProxyConfiguration(
            name: "test",
            upstream: HostAndPort(host: "127.0.0.1", port: server.port),
            faults: faults
        ),
        seed: seed
    )
    try await proxy.start()
    do {
        let result = try await body(proxy, server)
        await proxy.stop()
        await server.stop()
        return result
    } catch {
        await proxy.stop()
        await server.stop()
        throw error
    }
}

/// Starts NIO's HTTP/WebSocket test server and a proxy named `name` in front of it, runs `body`, and stops both.
func withWebSocketProxy(
    name: String,
    faults: [Fault],
    seed: UInt64,
    _ body: (ProxyServer, LoopbackWebSocketServer) async throws -> Void
) async throws {
    let server = try await LoopbackWebSocketServer.start()
    let proxy = ProxyServer(
        configuration: ProxyConfiguration(
            name: name,
            upstream: HostAndPort(host: "127.0.0.1", port: server.port),
            faults: faults
        ),
        seed: seed
    )
    try await proxy.start()
    do {
        try await body(proxy, server)
    } catch {
        await proxy.stop()
        await server.stop()
        throw error
    }
    await proxy.stop()
    await server.stop()
}

extension ProxyServer {
    /// The bound port, for clients.
    nonisolated var port: Int {
        self.listenAddress!.port!
    }
}

/// Seconds on a monotonic clock, for measuring delays.
func now() -> Double {
    Double(NIODeadline.now().uptimeNanoseconds) / 1e9
}

/// Builds a fault, failing the test on invalid attributes.
func fault(
    _ type: FaultType,
    _ direction: FaultDirection = .downstream,
    name: String? = nil,
    toxicity: Double = 1,
    _ attributes: [String: Double] = [:]
) throws -> Fault {
    try Fault(name: name, type: type, direction: direction, toxicity: toxicity, attributes: attributes)
}

/// Builds a downstream fault, failing the test on invalid attributes.
func fault(
    _ type: FaultType,
    name: String? = nil,
    toxicity: Double = 1,
    _ attributes: [String: Double] = [:]
) throws -> Fault {
    try Fault(name: name, type: type, direction: .downstream, toxicity: toxicity, attributes: attributes)
}
