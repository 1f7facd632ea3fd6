import NIOCore
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport

/// Starts a proxy named `name` in front of `127.0.0.1:port`, runs `body`, and stops it, whatever `body` does.
func withProxy<Result>(
    to port: Int,
    name: String = "test",
    faults: [Fault] = [],
    seed: UInt64 = 1,
    _ body: (ProxyServer) async throws -> Result
) async throws -> Result {
    let proxy = ProxyServer(
        configuration: ProxyConfiguration(
            name: name,
            upstream: HostAndPort(host: "127.0.0.1", port: port),
            faults: faults
        ),
        seed: seed
    )
    try await proxy.start()
    do {
        let result = try await body(proxy)
        await proxy.stop()
        return result
    } catch {
        await proxy.stop()
        throw error
    }
}

/// A loopback server a test starts and must stop.
protocol StoppableServer: Sendable {
    /// Stops listening and closes its connections.
    func stop() async
}

extension LoopbackServer: StoppableServer {}
extension LoopbackWebSocketServer: StoppableServer {}
extension ScriptedAnswerServer: StoppableServer {}

/// Runs `body` with `server`, then stops the server, whatever `body` does.
func stopping<Server: StoppableServer, Result>(
    _ server: Server,
    _ body: (Server) async throws -> Result
) async throws -> Result {
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// Starts a loopback server and a proxy in front of it, runs `body`, and stops both.
func withProxy<Result>(
    server behavior: LoopbackServer.Behavior = .echo,
    faults: [Fault] = [],
    seed: UInt64 = 1,
    _ body: (ProxyServer, LoopbackServer) async throws -> Result
) async throws -> Result {
    try await stopping(try await LoopbackServer.start(behavior)) { server in
        try await withProxy(to: server.port, faults: faults, seed: seed) { proxy in try await body(proxy, server) }
    }
}

/// Starts NIO's HTTP/WebSocket test server and a proxy named `name` in front of it, runs `body`, and stops both.
func withWebSocketProxy(
    name: String,
    faults: [Fault],
    seed: UInt64,
    _ body: (ProxyServer, LoopbackWebSocketServer) async throws -> Void
) async throws {
    try await stopping(try await LoopbackWebSocketServer.start()) { server in
        try await withProxy(to: server.port, name: name, faults: faults, seed: seed) { proxy in
            try await body(proxy, server)
        }
    }
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
