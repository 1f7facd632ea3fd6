import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

/// Protocol-aware faults against a real NIO HTTP/WebSocket server behind the proxy.
@Suite struct ProtocolFaultTests {
    private func withWebSocketProxy(
        _ faults: [Fault],
        _ body: (ProxyServer, LoopbackWebSocketServer) async throws -> Void
    ) async throws {
        try await SquallProxyTests.withWebSocketProxy(name: "ws", faults: faults, seed: 5, body)
    }

    private func blockUpgrade(_ mode: String, _ attributes: [String: Double] = [:]) throws -> Fault {
        try Fault(
            name: "block",
            type: .blockUpgrade,
            direction: .upstream,
            attributes: attributes,
            text: ["mode": mode]
        )
    }

    @Test func upgradeWorksThroughTheProxyWithoutFaults() async throws {
        try await self.withWebSocketProxy([]) { proxy, _ in
            let events = try await blocking { () -> [BlockingWebSocketClient.Event] in
                let client = try BlockingWebSocketClient(port: proxy.port)
                guard try client.upgrade() == 101 else { return [] }
                try client.send(.text, "hello")
                try client.send(.ping)
                return [client.nextEvent(), client.nextEvent()]
            }
            #expect(events == [.text("hello"), .pong])
        }
    }

    @Test func anUpgradeToAnotherProtocolPassesItsBytesUntouched() async throws {
        // Not WebSocket (as h2c is not): after the 101 the proxy neither inspects nor holds the bytes.
        try await self.withWebSocketProxy([]) { proxy, _ in
            let (answer, echoed) = try await blocking { () -> (String, [UInt8]) in
                let socket = try BlockingSocket(port: proxy.port)
                try socket.send(
                    "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                        + "Upgrade: \(EchoProtocolUpgrader.protocolName)\r\n\r\n"
                )
                var head: [UInt8] = []
                while !head.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) {
                    let byte = socket.read(exactly: 1, timeout: 5).bytes
                    if byte.isEmpty { break }
                    head += byte
                }
                // Bytes that are neither HTTP nor WebSocket framing.
                let payload: [UInt8] =
                    [0x50, 0x52, 0x49, 0x00, 0xFF, 0x0D, 0x0A] + Array(repeating: 0x81, count: 5_000)
                try socket.send(payload)
                return (String(decoding: head, as: UTF8.self), socket.read(exactly: payload.count, timeout: 5).bytes)
            }
            #expect(answer.hasPrefix("HTTP/1.1 101"))
            #expect(echoed.count == 5_007 && echoed.prefix(3).elementsEqual([0x50, 0x52, 0x49]))
        }
    }

    @Test(arguments: [403, 426, 502])
    func rejectAnswersTheStatusWithoutContactingTheServer(status: Int) async throws {
        try await self.withWebSocketProxy([try self.blockUpgrade("reject", ["status": Double(status)])]) {
            proxy,
            server in
            let (answer, end) = try await blocking { () -> ((status: Int, body: String)?, BlockingSocket.ReadOutcome) in
                let client = try BlockingWebSocketClient(port: proxy.port)
                try client.sendUpgrade()
                let answer = client.readResponse()
                return (answer, client.socket.readToEnd(timeout: 5).end)
            }
            #expect(answer?.status == status)
            #expect(end == .endOfFile)
            #expect(server.requests.isEmpty, "the server never saw the request")
        }
    }

    @Test func pollingPassesUntouchedBesideABlockedUpgrade() async throws {
        try await self.withWebSocketProxy([try self.blockUpgrade("reject")]) { proxy, server in
            let answers = try await blocking { () -> [Int] in
                let client = try BlockingWebSocketClient(port: proxy.port)
                var statuses: [Int] = []
                for _ in 0..<3 {
                    try client.sendRequest(uri: "/api/job-state/1?since=0")
                    statuses.append(client.readResponse()?.status ?? 0)
                }
                return statuses
            }
            #expect(answers == [200, 200, 200], "keep-alive polling on one connection passes")
            #expect(server.requests.count == 3)
            #expect(server.requests.allSatisfy { $0.uri == "/api/job-state/1?since=0" })
        }
    }

    @Test func stripForwardsTheRequestWithoutUpgradeHeaders() async throws {
        try await self.withWebSocketProxy([try self.blockUpgrade("strip")]) { proxy, server in
            let (status, second) = try await blocking { () -> (Int?, Int?) in
                let client = try BlockingWebSocketClient(port: proxy.port)
                let status = try client.upgrade()
                try client.sendRequest(uri: "/after")
                return (status, client.readResponse()?.status)
            }
            #expect(status == 200, "the server answered as plain HTTP")
            #expect(second == 200, "the connection goes on as HTTP")
            let seen = try #require(server.requests.first)
            #expect(seen.upgraded == false)
            #expect(seen.header("Upgrade").isEmpty)
            #expect(!seen.header("Connection").contains { $0.lowercased().contains("upgrade") })
            #expect(server.requests.last?.uri == "/after")
        }
    }

    @Test func resetSendsAnRst() async throws {
        try await self.withWebSocketProxy([try self.blockUpgrade("reset")]) { proxy, _ in
            let end = try await blocking {
                let client = try BlockingWebSocketClient(port: proxy.port)
                try client.sendUpgrade()
                return client.socket.readToEnd(timeout: 5).end
            }
            #expect(end == .reset)
        }
    }

    @Test func hangNeverAnswersNorCloses() async throws {
        try await self.withWebSocketProxy([try self.blockUpgrade("hang")]) { proxy, server in
            let outcome = try await blocking {
                let client = try BlockingWebSocketClient(port: proxy.port)
                try client.sendUpgrade()
                return client.socket.read(timeout: 0.6)
            }
            #expect(outcome == .timedOut, "a client detects the hang only by its own timeout")
            #expect(server.requests.isEmpty)
        }
    }

    @Test(arguments: ["hang", "blackhole_after_101"])
    func aSilencedConnectionReleasesTheSideWhosePeerClosed(mode: String) async throws {
        try await self.withWebSocketProxy([try self.blockUpgrade(mode)]) { proxy, _ in
            try await blocking {
                let client = try BlockingWebSocketClient(port: proxy.port)
                if mode == "hang" { try client.sendUpgrade() } else { _ = try client.upgrade() }
                _ = client.socket.read(timeout: 0.3)
            }  // the client's socket closes here
            // The client's side is closed, not left in CLOSE-WAIT; the server's stays open until the server closes
            // (nobody tells it: that is the black hole). With the server never connected, nothing is left at all.
            try await Task.sleep(for: .milliseconds(200))
            let released = await Eventually.wait(timeout: 3) { Self.closeWaitSockets(of: proxy) == 0 }
            #expect(released, "no socket of the proxy waits in CLOSE-WAIT for a peer that has gone")
        }
    }

    @Test func removingTheHangFaultReleasesTheConnectionsItHung() async throws {
        try await self.withWebSocketProxy([try self.blockUpgrade("hang")]) { proxy, _ in
            let client = try await blocking { () -> BlockingWebSocketClient in
                let client = try BlockingWebSocketClient(port: proxy.port)
                try client.sendUpgrade()
                return client
            }
            #expect(try await blocking { client.socket.read(timeout: 0.3) } == .timedOut, "hung")
            let name = try #require(proxy.faults.first?.name)
            try await proxy.removeFault(named: name)
            #expect(
                try await blocking { client.socket.readToEnd(timeout: 3).end } == .endOfFile,
                "released, not hung for ever"
            )
            #expect(await Eventually.wait(timeout: 3) { proxy.connections.isEmpty })
        }
    }

    /// Sockets of this process in CLOSE-WAIT whose local port is the proxy's (its client side).
    private static func closeWaitSockets(of proxy: ProxyServer) -> Int {
        guard let port = proxy.listenAddress?.port,
            let table = try? String(contentsOfFile: "/proc/self/net/tcp", encoding: .utf8)
        else { return 0 }
        let hex = String(format: "%04X", port)
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count > 3 && fields[1].hasSuffix(":" + hex) && fields[3] == "08"
        }.count
    }

    @Test func blackholeAfter101IsSilentButOpen() async throws {
        try await self.withWebSocketProxy([try self.blockUpgrade("blackhole_after_101")]) { proxy, server in
            let (status, event) = try await blocking { () -> (Int?, BlockingWebSocketClient.Event) in
                let client = try BlockingWebSocketClient(port: proxy.port)
                let status = try client.upgrade()
                try client.send(.text, "send:3")
                try client.send(.ping)
                return (status, client.nextEvent(timeout: 0.6))
            }
            #expect(status == 101)
            #expect(event == .timedOut, "no frames either way, no close")
            #expect(server.requests.first?.upgraded == true)
        }
    }

    @Test func bufferAfter101ReleasesFramesInBursts() async throws {
        try await self.withWebSocketProxy([try self.blockUpgrade("buffer_after_101", ["interval": 400])]) { proxy, _ in
            let (status, arrivals) = try await blocking { () -> (Int?, [(BlockingWebSocketClient.Event, Double)]) in
                let client = try BlockingWebSocketClient(port: proxy.port)
                let status = try client.upgrade()
                let start = Date()
                try client.send(.text, "send:3")
                var arrivals: [(BlockingWebSocketClient.Event, Double)] = []
                for _ in 0..<3 {
                    arrivals.append((client.nextEvent(timeout: 3), Date().timeIntervalSince(start)))
                }
                return (status, arrivals)
            }
            #expect(status == 101)
            #expect(arrivals.map(\.0) == [.text("m1"), .text("m2"), .text("m3")])
            #expect(arrivals[0].1 >= 0.2, "held until the burst")
            #expect(arrivals[2].1 - arrivals[0].1 < 0.1, "released together")
        }
    }

    @Test func dropPingsSwallowsPingsAndPongsBothWays() async throws {
        try await self.withWebSocketProxy([try Fault(type: .dropPings)]) { proxy, _ in
            let events = try await blocking { () -> [BlockingWebSocketClient.Event] in
                let client = try BlockingWebSocketClient(port: proxy.port)
                guard try client.upgrade() == 101 else { return [] }
                try client.send(.ping)
                let afterPing = client.nextEvent(timeout: 0.4)
                try client.send(.text, "ping")
                let afterServerPing = client.nextEvent(timeout: 0.4)
                try client.send(.text, "still here")
                return [afterPing, afterServerPing, client.nextEvent()]
            }
            #expect(events == [.timedOut, .timedOut, .text("still here")])
        }
    }

    @Test(arguments: [1001, 1011])
    func closeAfterFramesSendsTheCloseCode(code: Int) async throws {
        let fault = try Fault(type: .closeAfterFrames, attributes: ["frames": 2, "code": Double(code)])
        try await self.withWebSocketProxy([fault]) { proxy, _ in
            let events = try await blocking { () -> [BlockingWebSocketClient.Event] in
                let client = try BlockingWebSocketClient(port: proxy.port)
                guard try client.upgrade() == 101 else { return [] }
                try client.send(.text, "send:5")
                return (0..<4).map { _ in client.nextEvent() }
            }
            #expect(events == [.text("m1"), .text("m2"), .close(code: code), .endOfFile])
        }
    }

    @Test func closeAfterFramesWith1006CutsTCP() async throws {
        let fault = try Fault(type: .closeAfterFrames, attributes: ["frames": 1, "code": 1006])
        try await self.withWebSocketProxy([fault]) { proxy, _ in
            let events = try await blocking { () -> [BlockingWebSocketClient.Event] in
                let client = try BlockingWebSocketClient(port: proxy.port)
                guard try client.upgrade() == 101 else { return [] }
                try client.send(.text, "send:3")
                return [client.nextEvent(), client.nextEvent()]
            }
            #expect(events == [.text("m1"), .endOfFile], "no close frame: an abnormal closure")
        }
    }

    @Test func delayFramesDelaysEachFrameInOrder() async throws {
        try await self.withWebSocketProxy([try Fault(type: .delayFrames, attributes: ["delay": 150])]) { proxy, _ in
            let (events, elapsed) = try await blocking { () -> ([BlockingWebSocketClient.Event], Double) in
                let client = try BlockingWebSocketClient(port: proxy.port)
                guard try client.upgrade() == 101 else { return ([], 0) }
                let start = Date()
                try client.send(.text, "a")
                try client.send(.text, "b")
                let events = [client.nextEvent(), client.nextEvent()]
                return (events, Date().timeIntervalSince(start))
            }
            #expect(events == [.text("a"), .text("b")])
            #expect(elapsed >= 0.150)
            #expect(elapsed < 2)
        }
    }

    @Test func failRequestsFailsEveryNthMatchingRequest() async throws {
        let fault = try Fault(
            type: .failRequests,
            direction: .upstream,
            attributes: ["status": 503, "every": 3],
            text: ["path": "/api/job-state", "method": "GET"]
        )
        try await self.withWebSocketProxy([fault]) { proxy, server in
            let statuses = try await blocking { () -> [Int] in
                let client = try BlockingWebSocketClient(port: proxy.port)
                var statuses: [Int] = []
                for _ in 0..<6 {
                    try client.sendRequest(uri: "/api/job-state/7?since=0")
                    statuses.append(client.readResponse()?.status ?? 0)
                }
                try client.sendRequest(uri: "/other")
                statuses.append(client.readResponse()?.status ?? 0)
                return statuses
            }
            #expect(
                statuses == [200, 200, 503, 200, 200, 503, 200],
                "the 3rd and 6th matching requests fail; others pass"
            )
            #expect(server.requests.count == 5, "failed requests never reach the server")
        }
    }

    @Test func failRequestsInHangModeSwallowsMatchingRequestsOnly() async throws {
        // A black-holed POST (phoenixframework/phoenix#6767): the GET on another connection is answered, the POST is
        // never forwarded nor answered, and its connection stays open.
        let fault = try Fault(
            type: .failRequests,
            direction: .upstream,
            text: ["mode": "hang", "method": "POST"]
        )
        try await self.withWebSocketProxy([fault]) { proxy, server in
            let (get, post) = try await blocking { () -> (Int?, Int?) in
                let reader = try BlockingWebSocketClient(port: proxy.port)
                try reader.sendRequest(uri: "/api/job-state/7?since=0")
                let get = reader.readResponse()?.status
                let writer = try BlockingWebSocketClient(port: proxy.port)
                try writer.sendRequest(method: .POST, uri: "/api/jobs")
                return (get, writer.readResponse(timeout: 0.5)?.status)
            }
            #expect(get == 200)
            #expect(post == nil, "never answered")
            #expect(server.requests.map(\.method) == ["GET"], "the POST never reached the server")
        }
    }

    @Test func stripHeaderRemovesTheNamedHeaderFromMatchingRequestsOnly() async throws {
        let fault = try Fault(
            type: .stripHeader,
            direction: .upstream,
            text: ["header": "last-event-id", "path": "/sse"]
        )
        try await self.withWebSocketProxy([fault]) { proxy, server in
            let statuses = try await blocking { () -> [Int] in
                let client = try BlockingWebSocketClient(port: proxy.port)
                var statuses: [Int] = []
                for path in ["/sse/progress?jobId=1", "/api/job-state/1"] {
                    try client.sendRequest(
                        uri: path,
                        headers: [("Last-Event-ID", "7"), ("Authorization", "Bearer t")]
                    )
                    statuses.append(client.readResponse()?.status ?? 0)
                }
                return statuses
            }
            #expect(statuses == [200, 200])
            let seen = server.requests
            #expect(seen.map(\.uri) == ["/sse/progress?jobId=1", "/api/job-state/1"])
            #expect(seen.first?.header("Last-Event-ID") == [], "gone, whatever its case in the fault")
            #expect(seen.first?.header("Authorization") == ["Bearer t"], "the other headers stay")
            #expect(seen.last?.header("Last-Event-ID") == ["7"], "a request off the path keeps it")
        }
    }

    @Test func stripHeaderOfUpgradeMakesTheUpgradeAPlainRequest() async throws {
        let fault = try Fault(type: .stripHeader, direction: .upstream, text: ["header": "Upgrade"])
        try await self.withWebSocketProxy([fault]) { proxy, server in
            let status = try await blocking { () -> Int? in
                let client = try BlockingWebSocketClient(port: proxy.port)
                return try client.upgrade()
            }
            #expect(status != 101)
            #expect(server.requests.first?.upgraded == false)
            #expect(server.requests.first?.header("Upgrade") == [])
        }
    }

    @Test func failRequestsAtASeededRateIsReproducible() async throws {
        func run() async throws -> [Int] {
            var result: [Int] = []
            let fault = try Fault(type: .failRequests, direction: .upstream, attributes: ["rate": 0.5, "status": 500])
            try await self.withWebSocketProxy([fault]) { proxy, _ in
                result = try await blocking { () -> [Int] in
                    let client = try BlockingWebSocketClient(port: proxy.port)
                    return try (0..<20).map { _ in
                        try client.sendRequest(uri: "/poll")
                        return client.readResponse()?.status ?? 0
                    }
                }
            }
            return result
        }
        let first = try await run()
        let second = try await run()
        #expect(first == second)
        #expect(first.contains(500) && first.contains(200))
    }

    @Test func delayRequestsHoldsMatchingRequests() async throws {
        let fault = try Fault(
            type: .delayRequests,
            direction: .upstream,
            attributes: ["delay": 200],
            text: ["path": "/slow"]
        )
        try await self.withWebSocketProxy([fault]) { proxy, _ in
            let (fast, slow) = try await blocking { () -> (Double, Double) in
                let client = try BlockingWebSocketClient(port: proxy.port)
                var start = Date()
                try client.sendRequest(uri: "/fast")
                _ = client.readResponse()
                let fast = Date().timeIntervalSince(start)
                start = Date()
                try client.sendRequest(uri: "/slow/1")
                _ = client.readResponse()
                return (fast, Date().timeIntervalSince(start))
            }
            #expect(fast < 0.15)
            #expect(slow >= 0.200)
        }
    }

    @Test func garbageIntoABlockUpgradeProxyLeavesItServing() async throws {
        try await self.withWebSocketProxy([try self.blockUpgrade("reject")]) { proxy, _ in
            let port = proxy.port
            try await blocking {
                for garbage in [
                    [UInt8](repeating: 0xFF, count: 300), Array("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".utf8),
                    Array("\u{0}\u{1}\u{2}".utf8),
                ] {
                    let socket = try BlockingSocket(port: port)
                    try? socket.send(garbage)
                    _ = socket.readToEnd(timeout: 1)
                }
            }
            let status = try await blocking { () -> Int? in
                let client = try BlockingWebSocketClient(port: port)
                try client.sendRequest(uri: "/still")
                return client.readResponse()?.status
            }
            #expect(status == 200)
        }
    }

    @Test func protocolFaultsAreValidated() throws {
        #expect(throws: FaultError.self) {
            try Fault(type: .blockUpgrade, text: ["mode": "explode"])
        }
        #expect(throws: FaultError.self) {
            try Fault(type: .blockUpgrade, attributes: ["status": 99])
        }
        #expect(throws: FaultError.self) {
            try Fault(type: .failRequests, attributes: ["rate": 1.5])
        }
        #expect(throws: FaultError.self) {
            try Fault(type: .closeAfterFrames, attributes: ["code": 999])
        }
        let json = try JSONValue.parse(Array(#"{"type":"block_upgrade","attributes":{"mode":"strip"}}"#.utf8))
        #expect(try Fault(json: json, path: "").textAttributes["mode"] == "strip")
    }
}
