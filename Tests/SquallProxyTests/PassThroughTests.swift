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

    @Test func aSlowReaderHoldsTheServerBackThenGetsEveryByte() async throws {
        // 32 MB is more than the proxy's write buffer and both kernels' socket buffers hold, so the proxy must stop
        // reading the server while the client does not read, and resume once it does.
        let count = 32 << 20
        try await withProxy(server: .send(count: count, fill: 0x62)) { proxy, _ in
            let socket = try await blocking { try BlockingSocket(port: proxy.port) }
            #expect(await Eventually.wait { proxy.metrics.bytesDownstream.value >= 4 << 20 })
            try await Task.sleep(for: .milliseconds(300))
            let heldBack = proxy.metrics.bytesDownstream.value
            #expect(heldBack < count, "the proxy stopped reading the server: \(heldBack) of \(count) bytes read")
            let received = try await blocking { socket.read(exactly: count, timeout: 30).bytes }
            #expect(received.count == count)
            #expect(received.allSatisfy { $0 == 0x62 })
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
