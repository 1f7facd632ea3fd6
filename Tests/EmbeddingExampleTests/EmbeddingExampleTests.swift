import Foundation
import NIOCore  // `SocketAddress.port`, for `proxy.listenAddress?.port` under MemberImportVisibility
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

// The README's "Using the proxy from Swift" example, compiled and run as another package's test would use it: only
// `SquallFaults` and `SquallProxy` are imported by the example itself (below). The helpers stand in for the
// package's own server under test and client call.

/// The server under test: an echo server on loopback.
private let echo = Task { try await LoopbackServer.start(.echo) }

/// The server's port.
private var serverPort: Int {
    get async throws { try await echo.value.port }
}

/// The client call being tested: one request/response round trip, timed.
private func timeRoundTrip(port: Int) async throws -> Duration {
    try await blocking {
        let socket = try BlockingSocket(port: port)
        let start = ContinuousClock.now
        try socket.send("ping")
        _ = socket.read(exactly: 4, timeout: 10)
        return ContinuousClock.now - start
    }
}

// README: begin
@Test func myClientSeesTheInjectedLatency() async throws {
    let proxy = ProxyServer(
        configuration: ProxyConfiguration(
            name: "api",
            upstream: HostAndPort(host: "127.0.0.1", port: try await serverPort)
        ),
        seed: 42
    )
    try await proxy.start()
    let port = try #require(proxy.listenAddress?.port)  // point the client here
    #expect(try await timeRoundTrip(port: port) < .milliseconds(200))
    try await proxy.addFault(Fault(name: "slow", type: .latency, attributes: ["latency": 200]))
    #expect(try await timeRoundTrip(port: port) >= .milliseconds(200))
    try await proxy.removeFault(named: "slow")
    await proxy.stop()
}
// README: end

/// The README shows exactly the code above.
@Test func theReadmeShowsThisExample() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let begin = try #require(source.range(of: "// README: begin\n"))
    let end = try #require(source.range(of: "// README: end"))
    // The example imports only these two (the imports of this file are at its top, as swift-format keeps them).
    let example = "import SquallFaults\nimport SquallProxy\n\n" + String(source[begin.upperBound..<end.lowerBound])
    #expect(
        readme.contains("```swift\n" + example + "```"),
        "README.md's example differs from EmbeddingExampleTests.swift"
    )
}
