import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

@Suite struct PassThroughTests {
    @Test func echoesBytesWithoutFaults() async throws {
        try await withProxy { proxy, _ in
            let echoed = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
                try socket.send(payload)
                return socket.read(exactly: payload.count, timeout: 5).bytes == payload
            }
            #expect(echoed)
            #expect(proxy.metrics.bytesUpstream.value == 100_000)
        }
    }

    @Test func halfCloseStillDeliversTheWholeReply() async throws {
        let reply = Array("the whole reply after your FIN".utf8)
        try await withProxy(server: .replyAfterEOF(reply: reply)) { proxy, _ in
            let (bytes, end) = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                try socket.send("request")
                socket.shutdownWrite()
                return socket.readToEnd(timeout: 5)
            }
            #expect(bytes == reply)
            #expect(end == .endOfFile)
        }
    }

    @Test func aResetFromTheServerReachesTheClientAsAReset() async throws {
        try await withProxy(server: .reset) { proxy, _ in
            let end = try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                try? socket.send("hello")
                return socket.readToEnd(timeout: 5).end
            }
            #expect(end == .reset)
        }
    }
}
