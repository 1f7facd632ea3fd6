import Foundation
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

/// Pipelined HTTP/1.1 requests (several in one write), plain and followed by an upgrade, under the request faults:
/// the proxy answers each as the fault says and goes on serving. Issue 28: pipelined requests under `fail_requests`
/// once crashed the whole process.
@Suite struct PipelinedRequestTests {
    private static func get(_ path: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: a\r\n\r\n"
    }

    private static let upgrade =
        "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    /// A masked text frame "hi", as a client sends it.
    private static let maskedHi: [UInt8] = [0x81, 0x82, 1, 2, 3, 4, UInt8(ascii: "h") ^ 1, UInt8(ascii: "i") ^ 2]

    private func withWebSocketProxy(_ faults: [Fault], _ body: (Int) async throws -> Void) async throws {
        try await self.withWebSocketProxy(faults) { proxy in try await body(proxy.port) }
    }

    private func withWebSocketProxy(_ faults: [Fault], _ body: (ProxyServer) async throws -> Void) async throws {
        try await SquallProxyTests.withWebSocketProxy(name: "pipelined", faults: faults, seed: 3) { proxy, _ in
            try await body(proxy)
        }
    }

    /// Sends `text` in one write and reads until `count` status lines arrived (or the stream ended or went
    /// silent); returns the statuses in order, and the bytes after the last head when it was a 101.
    private static func exchange(
        port: Int,
        _ text: String,
        expecting count: Int
    ) throws -> (
        statuses: [Int], socket: BlockingSocket, afterSwitch: [UInt8]
    ) {
        let socket = try BlockingSocket(port: port)
        try socket.send(text)
        var received: [UInt8] = []
        while Self.statuses(in: received).count < count || !Self.endsAnswer(received) {
            guard case .data(let chunk) = socket.read(timeout: 5) else { break }
            received += chunk
        }
        let statuses = Self.statuses(in: received)
        var afterSwitch: [UInt8] = []
        if statuses.last == 101,
            let range = String(decoding: received, as: UTF8.self).range(of: "\r\n\r\n", options: .backwards)
        {
            afterSwitch = Array(String(decoding: received, as: UTF8.self)[range.upperBound...].utf8)
        }
        return (statuses, socket, afterSwitch)
    }

    private static func statuses(in bytes: [UInt8]) -> [Int] {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
    }

    /// Whether the bytes end at the end of an answer: a 101's head, or a body as long as its Content-Length.
    private static func endsAnswer(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let last = text.range(of: "HTTP/1.1 ", options: .backwards) else { return false }
        let answer = text[last.lowerBound...]
        guard let headEnd = answer.range(of: "\r\n\r\n") else { return false }
        if answer.hasPrefix("HTTP/1.1 101") { return true }
        let head = answer[..<headEnd.lowerBound].lowercased()
        guard let lengthLine = head.components(separatedBy: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(lengthLine.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return true }
        return answer[headEnd.upperBound...].utf8.count >= length
    }

    @Test func failRequestsAnswersEachPipelinedRequestAndTheUpgradeAfterThem() async throws {
        let fault = try Fault(type: .failRequests, direction: .upstream, attributes: ["status": 503, "every": 2])
        try await self.withWebSocketProxy([fault]) { port in
            let (plain, mixed, echoed) = try await blocking { () -> ([Int], [Int], [Int]) in
                let plain = try Self.exchange(port: port, String(repeating: Self.get("/a"), count: 4), expecting: 4)
                // Counting goes on across connections: the 5th request passes, the 6th fails; the upgrade after
                // them (7th) passes, though NIO's server upgrades only a connection's first request.
                let mixed = try Self.exchange(port: port, Self.get("/b") + Self.get("/c") + Self.upgrade, expecting: 3)
                // The 8th fails; the 9th, an upgrade alone on its connection, passes and its WebSocket echoes.
                _ = try Self.exchange(port: port, Self.get("/d"), expecting: 1)
                let upgraded = try Self.exchange(port: port, Self.upgrade, expecting: 1)
                try upgraded.socket.send(Self.maskedHi)
                var frame = upgraded.afterSwitch
                while frame.count < 4, case .data(let chunk) = upgraded.socket.read(timeout: 5) { frame += chunk }
                return (
                    plain.statuses, mixed.statuses, upgraded.statuses + [frame == [0x81, 0x02, 0x68, 0x69] ? 1 : 0]
                )
            }
            #expect(plain == [200, 503, 200, 503], "each answer in its request's turn")
            #expect(mixed == [200, 503, 200])
            #expect(echoed == [101, 1], "the last figure is 1 when the WebSocket echoed the frame")
        }
    }

    @Test func failedUpgradeInTheMiddleOfPipelinedRequestsKeepsTheRestHTTP() async throws {
        // A failed upgrade request never reaches the server; what the client sent after it is HTTP again.
        let fault = try Fault(
            type: .failRequests,
            direction: .upstream,
            attributes: ["status": 502, "every": 1],
            text: ["path": "/ws"]
        )
        try await self.withWebSocketProxy([fault]) { port in
            let statuses = try await blocking {
                try Self.exchange(
                    port: port,
                    Self.get("/a") + Self.upgrade + Self.get("/b") + Self.upgrade + Self.get("/c"),
                    expecting: 5
                )
                .statuses
            }
            #expect(statuses == [200, 502, 200, 502, 200])
        }
    }

    @Test func rejectAnswersThePipelinedUpgradeAfterTheRequestsBeforeIt() async throws {
        let fault = try Fault(type: .blockUpgrade, direction: .upstream, text: ["mode": "reject"])
        try await self.withWebSocketProxy([fault]) { port in
            let (statuses, end) = try await blocking { () -> ([Int], BlockingSocket.ReadOutcome) in
                let result = try Self.exchange(
                    port: port,
                    Self.get("/a") + Self.get("/b") + Self.upgrade + Self.get("/never"),
                    expecting: 3
                )
                return (result.statuses, result.socket.readToEnd(timeout: 5).end)
            }
            #expect(statuses == [200, 200, 403], "the requests before the upgrade pass; the upgrade is refused")
            #expect(end == .endOfFile, "reject closes the connection: the request after the upgrade is not served")
        }
    }

    @Test func delayRequestsDelaysEachPipelinedRequestAndStillUpgrades() async throws {
        let fault = try Fault(type: .delayRequests, direction: .upstream, attributes: ["delay": 60])
        try await self.withWebSocketProxy([fault]) { port in
            let (statuses, elapsed) = try await blocking { () -> ([Int], Double) in
                let start = now()
                let result = try Self.exchange(port: port, Self.get("/a") + Self.get("/b") + Self.upgrade, expecting: 3)
                return (result.statuses, now() - start)
            }
            #expect(statuses == [200, 200, 200], "NIO's server upgrades only a connection's first request")
            #expect(elapsed >= 0.060, "each request is held 60 ms before it goes on")
            #expect(elapsed < 5)
        }
    }

    @Test func theProxyServesAfterPipelinedRequestsWithGarbageAndResetsBehindThem() async throws {
        // The pattern that crashed the proxy: requests (some failed by the proxy itself), an upgrade, then bytes
        // that are neither HTTP nor frames, and the client resetting while the proxy writes its answers — which
        // makes NIO read the socket again in the middle of the first read.
        let fault = try Fault(type: .failRequests, direction: .upstream, attributes: ["status": 503, "every": 2])
        try await self.withWebSocketProxy([fault]) { port in
            try await blocking {
                DispatchQueue.concurrentPerform(iterations: 8) { worker in
                    for round in 0..<60 {
                        guard let socket = try? BlockingSocket(port: port) else { continue }
                        let head = String(repeating: Self.get("/x"), count: 1 + (round + worker) % 4)
                        try? socket.send(head + Self.upgrade)
                        try? socket.send(Self.maskedHi + Array("garbage\r\n\r\n".utf8))
                        socket.resetOnClose()
                    }
                }
            }
            let statuses = try await blocking {
                try Self.exchange(port: port, Self.get("/after") + Self.get("/after"), expecting: 2).statuses
            }
            #expect(statuses.count == 2, "the proxy still answers after the storm")
        }
    }

    @Test(arguments: ["noop", "fail_requests", "reject"])
    func aClientThatResetsBehindPipelinedRequestsLeavesNoConnectionOpen(faultType: String) async throws {
        // A client gone (reset) while its requests wait their turn: its end must reach the server at once, not
        // wait for answers nobody will read (the server's socket stayed open for good).
        let fault: Fault
        switch faultType {
        case "fail_requests":
            fault = try Fault(type: .failRequests, direction: .upstream, attributes: ["status": 503, "every": 2])
        case "reject":
            fault = try Fault(type: .blockUpgrade, direction: .upstream, text: ["mode": "reject"])
        default:
            fault = try Fault(type: .noop)
        }
        try await self.withWebSocketProxy([fault]) { (proxy: ProxyServer) in
            let port = proxy.port
            try await blocking {
                for round in 0..<40 {
                    let socket = try BlockingSocket(port: port)
                    socket.resetOnClose()
                    let requests = String(repeating: Self.get("/x"), count: 1 + round % 5)
                    try socket.send(round % 2 == 0 ? requests : requests + Self.upgrade + Self.get("/y"))
                    // Long enough for the proxy to have connected to the server and sent the first request.
                    usleep(UInt32(1_000 * (round % 4)))
                }
            }
            let drained = await Eventually.wait(timeout: 10) { proxy.connections.isEmpty }
            #expect(drained, "\(proxy.connections.count) connections still open after their clients reset")
        }
    }
}
