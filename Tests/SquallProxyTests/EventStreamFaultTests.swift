import NIOCore
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

/// The event-stream faults on real sockets, with known answers: a scripted server writes an event stream chunked
/// its own way, the proxy cuts it into blocks, and a raw client reads exactly what reached it.
@Suite struct EventStreamFaultTests {
    private static let head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
    private static let request = "GET /sse/progress?jobId=1 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"

    /// Event `n` as the reference server writes it.
    private static func event(_ number: Int) -> String {
        "id: \(number)\ndata: {\"seq\":\(number)}\n\n"
    }

    /// A block as a chunk of its own, as the proxy forwards it.
    private static func chunk(_ text: String) -> String {
        "\(String(text.utf8.count, radix: 16))\r\n\(text)\r\n"
    }

    /// Starts a server answering with `writes` and a proxy with `faults` in front of it, runs `body` with the
    /// proxy's port, and stops both.
    private func withScriptedProxy<Result>(
        writes: [String],
        closes: Bool = false,
        faults: [Fault],
        _ body: (Int) async throws -> Result
    ) async throws -> Result {
        let server = try await ScriptedAnswerServer.start(writes: writes.map { Array($0.utf8) }, closes: closes)
        return try await stopping(server) { server in
            try await withProxy(to: server.port, name: "sse", faults: faults) { proxy in try await body(proxy.port) }
        }
    }

    /// As ``withScriptedProxy(writes:closes:faults:_:)``, with a socket that sent the request and read the answer's
    /// head.
    private func withEventStream(
        writes: [String],
        closes: Bool = false,
        faults: [Fault],
        _ body: @escaping @Sendable (BlockingSocket) throws -> Void
    ) async throws {
        try await self.withScriptedProxy(writes: writes, closes: closes, faults: faults) { port in
            try await blocking {
                let socket = try BlockingSocket(port: port)
                try socket.send(Self.request)
                let (head, end) = socket.read(exactly: Self.head.utf8.count, timeout: 5)
                #expect(end == nil)
                #expect(String(decoding: head, as: UTF8.self) == Self.head, "the head passes at once, untouched")
                try body(socket)
            }
        }
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func withoutAFaultEachBlockArrivesAsAChunkOfItsOwnWhateverTheServersChunks() async throws {
        // Two events and a keep-alive in one chunk, then an event cut across two chunks, then the last chunk.
        let third = Self.event(3)
        let split = third.utf8.index(third.startIndex, offsetBy: 9)
        let writes = [
            Self.head,
            Self.chunk(Self.event(1) + ": keep-alive\n\n" + Self.event(2) + String(third[..<split])),
            Self.chunk(String(third[split...])),
            "0\r\n\r\n",
        ]
        try await self.withEventStream(writes: writes, closes: true, faults: []) { socket in
            let (bytes, end) = socket.readToEnd(timeout: 5)
            #expect(end == .endOfFile)
            let expected =
                [Self.event(1), ": keep-alive\n\n", Self.event(2), third].map(Self.chunk).joined() + "0\r\n\r\n"
            #expect(Self.text(bytes) == expected)
        }
    }

    @Test func bufferStreamHoldsBytesUntilExactlyItsSizeThenTheRestAtTheEnd() async throws {
        let blocks = (1...5).map(Self.event)
        let framed = blocks.map(Self.chunk)
        let size = framed[0].utf8.count * 2 + 5  // two blocks and five bytes of the third
        let fault = try Fault(type: .bufferStream, attributes: ["bytes": Double(size)])
        try await self.withEventStream(
            writes: [Self.head] + blocks.map(Self.chunk) + ["0\r\n\r\n"],
            faults: [fault]
        ) { socket in
            let (first, end) = socket.read(exactly: size, timeout: 5)
            #expect(end == nil)
            let all = framed.joined()
            #expect(Self.text(first) == String(all.utf8.prefix(size))!, "exactly the buffer, a block cut where it ends")
            // The rest (less than a buffer) comes with the answer's end, once the server sent it.
            let (rest, restEnd) = socket.read(exactly: all.utf8.count - size + 5, timeout: 5)
            #expect(restEnd == nil)
            #expect(Self.text(rest) == String(all.utf8.dropFirst(size))! + "0\r\n\r\n")
        }
    }

    @Test func bufferStreamReleasesNothingBeforeItIsFull() async throws {
        let fault = try Fault(type: .bufferStream, attributes: ["bytes": 4096])
        try await self.withEventStream(
            writes: [Self.head] + (1...3).map { Self.chunk(Self.event($0)) },
            faults: [fault]
        ) {
            socket in
            // Three small events: far below 4 KiB, so nothing arrives while the stream is open.
            #expect(socket.read(timeout: 0.5) == .timedOut)
        }
    }

    @Test(arguments: [("mid_event", true), ("after_event", false)])
    func cutStreamClosesAfterExactlyItsEvents(at: String, midEvent: Bool) async throws {
        let fault = try Fault(type: .cutStream, attributes: ["events": 2], text: ["at": at])
        let writes = [Self.head, Self.chunk(": keep-alive\n\n")] + (1...4).map { Self.chunk(Self.event($0)) }
        try await self.withEventStream(writes: writes, faults: [fault]) { socket in
            let (bytes, end) = socket.readToEnd(timeout: 5)
            #expect(end == .endOfFile, "an orderly close, in the middle of the answer")
            let third = Self.chunk(Self.event(3))
            let expected =
                [": keep-alive\n\n", Self.event(1), Self.event(2)].map(Self.chunk).joined()
                + (midEvent ? String(third.utf8.prefix(third.utf8.count / 2))! : "")
            #expect(Self.text(bytes) == expected)
        }
    }

    @Test func dropEventsDropsEveryNthEventButNeitherCommentsNorTheEnd() async throws {
        let fault = try Fault(type: .dropEvents, attributes: ["every": 2])
        let writes =
            [Self.head]
            + [Self.event(1), ": keep-alive\n\n", Self.event(2), Self.event(3), Self.event(4)].map(Self.chunk)
            + ["0\r\n\r\n"]
        try await self.withEventStream(writes: writes, closes: true, faults: [fault]) { socket in
            let (bytes, end) = socket.readToEnd(timeout: 5)
            #expect(end == .endOfFile)
            #expect(
                Self.text(bytes) == [Self.event(1), ": keep-alive\n\n", Self.event(3)].map(Self.chunk).joined()
                    + "0\r\n\r\n"
            )
        }
    }

    @Test func anEventStreamWithALengthPassesUntouched() async throws {
        let body = Self.event(1) + Self.event(2)
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        let fault = try Fault(type: .dropEvents, attributes: ["every": 1])
        let received = try await self.withScriptedProxy(writes: [head + body], closes: true, faults: [fault]) { port in
            try await blocking {
                let socket = try BlockingSocket(port: port)
                try socket.send(Self.request)
                return socket.readToEnd(timeout: 5).bytes
            }
        }
        #expect(Self.text(received) == head + body, "dropping a block would break its length: nothing is dropped")
    }

    @Test func brokenChunkFramingCutsTheConnectionAfterTheLastWholeBlock() async throws {
        let writes = [Self.head, Self.chunk(Self.event(1)), "zz\r\ngarbage\r\n"]
        try await self.withEventStream(writes: writes, faults: []) { socket in
            let (bytes, end) = socket.readToEnd(timeout: 5)
            #expect(end == .endOfFile, "cut, not hung")
            #expect(Self.text(bytes) == Self.chunk(Self.event(1)))
        }
    }
}
