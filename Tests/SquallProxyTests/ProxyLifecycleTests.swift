import NIOCore
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

/// The proxy in the `run()` shape: it serves until its task is cancelled, then every socket is closed.
@Suite struct ProxyLifecycleTests {
    /// A control API serving on a free loopback port, with the task running it.
    private func runningControlServer() async throws -> (ControlServer, Task<Void, Never>, Int) {
        let server = try await ControlServer.bind(
            host: "127.0.0.1",
            port: 0,
            router: ControlRouter(collection: ProxyCollection())
        )
        let running = Task { await server.run() }
        return (server, running, try #require(server.localAddress.port))
    }

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

    @Test func closingTheControlAPIClosesIdlePeersAtOnceAndGivesARequestInProgressTheDrainDeadline() async throws {
        let (server, running, port) = try await self.runningControlServer()
        let (silent, midRequest) = try await blocking {
            let silent = try BlockingSocket(port: port)
            let midRequest = try BlockingSocket(port: port)
            // A whole head and half the body it announces: a request in progress.
            try midRequest.send("POST /populate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n[{")
            return (silent, midRequest)
        }
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        let closing = Task { await server.close() }
        let silentEnd = try await blocking { silent.readToEnd(timeout: 2).end }
        let silentClosedAfter = ContinuousClock.now - started
        await closing.value
        await running.value
        let elapsed = ContinuousClock.now - started
        #expect(silentEnd == .endOfFile)
        #expect(silentClosedAfter < ControlServer.drainDeadline * 0.8, "an idle peer is closed at once")
        #expect(elapsed >= ControlServer.drainDeadline * 0.8, "the request in progress had the deadline: \(elapsed)")
        #expect(elapsed < .seconds(3), "then its connection was closed: \(elapsed)")
        #expect(try await blocking { midRequest.readToEnd(timeout: 2).end } == .endOfFile)
        await server.close()  // joins the finished shutdown at once
        await server.run()  // and a shut-down server does not serve again
        #expect(throws: (any Error).self, "nothing listens any more") { try BlockingSocket(port: port) }
    }

    @Test func cancellingTheControlAPIsRunClosesEveryConnectionAtOnce() async throws {
        let (_, running, port) = try await self.runningControlServer()
        let silent = try await blocking { try BlockingSocket(port: port) }
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        running.cancel()
        await running.value
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(try await blocking { silent.readToEnd(timeout: 2).end } == .endOfFile, "the server closed it")
    }

    @Test func cancellingTheLoopbackServersRunClosesItsConnections() async throws {
        let server = try await LoopbackServer.start(.echo)
        let running = Task { await server.run() }
        let socket = try await blocking { try BlockingSocket(port: server.port) }
        #expect(
            try await blocking { () throws -> BlockingSocket.ReadOutcome in
                try socket.send("x")
                return socket.read(timeout: 5)
            } == .data(Array("x".utf8))
        )
        running.cancel()
        await running.value
        #expect(try await blocking { socket.readToEnd(timeout: 5).end } == .endOfFile)
    }

    @Test func aPortAnotherProxyListensOnIsRefusedNotShared() async throws {
        let server = try await LoopbackServer.start(.echo)
        let first = ProxyServer(
            configuration: ProxyConfiguration(name: "one", upstream: HostAndPort(host: "127.0.0.1", port: server.port))
        )
        try await first.start()
        let port = try #require(first.listenAddress?.port)
        let second = ProxyServer(
            configuration: ProxyConfiguration(
                name: "two",
                listen: HostAndPort(host: "127.0.0.1", port: port),
                upstream: HostAndPort(host: "127.0.0.1", port: server.port)
            )
        )
        await #expect(throws: ProxyError.self, "two proxies cannot split one port's connections") {
            try await second.start()
        }
        await second.stop()
        await first.stop()
        await server.stop()
    }
}
