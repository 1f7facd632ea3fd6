import NIOCore
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

/// The proxy in the `run()` shape: it serves until its task is cancelled, then every socket is closed.
@Suite struct ProxyLifecycleTests {
    @Test func cancellingRunStopsTheProxyAndClosesItsConnections() async throws {
        let server = try await LoopbackServer.start(.echo)
        let proxy = ProxyServer(
            configuration: ProxyConfiguration(name: "svc", upstream: HostAndPort(host: "127.0.0.1", port: server.port))
        )
        let running = Task { try await proxy.run() }
        #expect(await Eventually.wait { proxy.listenAddress?.port != nil }, "run() starts the proxy")
        let port = try #require(proxy.listenAddress?.port)
        let socket = try await blocking { try BlockingSocket(port: port) }
        let echoed = try await blocking {
            try socket.send("hi")
            return socket.read(exactly: 2, timeout: 5).bytes
        }
        #expect(echoed == Array("hi".utf8))
        running.cancel()
        try await running.value
        #expect(try await blocking { socket.readToEnd(timeout: 5).end } == .endOfFile, "its connection was closed")
        #expect(throws: (any Error).self, "nothing listens any more") { try BlockingSocket(port: port) }
        await server.stop()
    }
}
