import SquallFaults

/// One hostile client stream for `squall bench hostile`: the bytes a peer sends (in writes, maybe one byte at a
/// time) and how it leaves. Generated from a seed, so a stream that crashes the proxy can be sent again.
public struct HostileStream: Sendable, Equatable {
    /// What the stream is made of.
    public enum Kind: String, Sendable, CaseIterable {
        /// Random bytes.
        case randomBytes = "random-bytes"
        /// Lines that look like HTTP but are not: bad request lines, header lines without a colon, NULs.
        case httpGarbage = "http-garbage"
        /// Several well-formed requests in one write (HTTP/1.1 pipelining).
        case pipelined
        /// Pipelined requests (up to about 3 KB) with a WebSocket (or `h2c`) upgrade among them, and bytes after it.
        case pipelinedWithUpgrade = "pipelined-with-upgrade"
        /// A request head cut off before its blank line.
        case truncatedHead = "truncated-head"
        /// A request with tens of kilobytes of headers.
        case hugeHeaders = "huge-headers"
        /// A chunked body whose chunk sizes are wrong or not hexadecimal.
        case badChunking = "bad-chunking"
        /// `Content-Length` twice with different values, or with `Transfer-Encoding: chunked`.
        case conflictingLengths = "conflicting-lengths"
        /// A real WebSocket upgrade, then frames RFC 6455 forbids (unmasked, reserved opcodes, fragmented pings,
        /// lengths beyond what follows).
        case invalidFramesAfterUpgrade = "invalid-frames-after-upgrade"
        /// A well-formed request written one byte at a time.
        case slowBytes = "slow-bytes"
    }

    /// How the client leaves once it has written everything.
    public enum Ending: String, Sendable, CaseIterable {
        /// Reads briefly, then closes.
        case close
        /// Half-closes (FIN) and reads what comes until the proxy closes or 50 ms pass.
        case halfClose = "half-close"
        /// Closes abortively (RST).
        case reset
    }

    /// What the stream is made of.
    public var kind: Kind
    /// The writes, in order.
    public var writes: [[UInt8]]
    /// Whether each byte is written on its own, with a pause between.
    public var byteByByte: Bool
    /// How the client leaves.
    public var ending: Ending

    /// The stream number `index` of a run with `seed`: the same seed and index always give the same stream.
    ///
    /// - Parameters:
    ///   - upgrade: a WebSocket upgrade request the server behind the proxy accepts.
    public static func generate(seed: UInt64, index: Int, upgrade: [UInt8]) -> HostileStream {
        var random = SeededRandom(seed: seed, labels: ["hostile", String(index)])
        let kind = Kind.allCases[index % Kind.allCases.count]
        let ending = Ending.allCases[Int(random.next() % UInt64(Ending.allCases.count))]
        var stream = HostileStream(kind: kind, writes: [], byteByByte: false, ending: ending)
        switch kind {
        case .randomBytes:
            stream.writes = [Self.bytes(count: Int.random(in: 1...2_048, using: &random), &random)]
        case .httpGarbage:
            let pieces = [
                "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nNoColonHere\r\n\r\n",
                "POST / HTTP/1.1\r\nHost: a\r\n\r\n\u{0}\u{0}", "GE T / HTTP/1.1\r\n\r\n", "\r\n\r\n\r\n",
                "GET /\u{7F}\u{1} HTTP/1.1\r\nHost: a\r\n\r\n", "OPTIONS * HTTP/1.1\r\n: empty\r\n\r\n",
                "CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n",
            ]
            stream.writes = (0..<Int.random(in: 1...4, using: &random)).map { _ in
                Array(pieces[Int.random(in: 0..<pieces.count, using: &random)].utf8)
            }
        case .pipelined:
            let count = Int.random(in: 2...20, using: &random)
            stream.writes = [Array((0..<count).map { Self.request(number: $0) }.joined().utf8)]
        case .pipelinedWithUpgrade:
            // Up to about 3 KB: more than the proxy's first read takes, so the rest arrives while it still
            // handles the first part (the crash of issue 28 needed that, and a reset behind it).
            let before = Int.random(in: 0...60, using: &random)
            let after = Int.random(in: 0...20, using: &random)
            let upgradeRequest = random.next() % 4 == 0 ? Array(Self.h2cUpgrade.utf8) : upgrade
            var bytes = Array((0..<before).map { Self.request(number: $0) }.joined().utf8) + upgradeRequest
            bytes += Array((0..<after).map { Self.request(number: $0) }.joined().utf8)
            if random.next() % 2 == 0 { bytes += Self.invalidFrames(&random) }
            let cut = Int.random(in: 0...bytes.count, using: &random)
            stream.writes = [Array(bytes[..<cut]), Array(bytes[cut...])].filter { !$0.isEmpty }
        case .truncatedHead:
            let head = Array("GET /api/job-state/1?since=0 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n".utf8)
            stream.writes = [Array(head.prefix(Int.random(in: 1..<head.count, using: &random)))]
        case .hugeHeaders:
            let size = Int.random(in: 8_000...120_000, using: &random)
            let value = String(repeating: "x", count: size)
            stream.writes = [Array("GET / HTTP/1.1\r\nHost: a\r\nX-Huge: \(value)\r\n\r\n".utf8)]
        case .badChunking:
            let bodies = [
                "zz\r\nhello\r\n0\r\n\r\n", "5\r\nhello world\r\n0\r\n\r\n", "-1\r\n\r\n", "ffffffffffffffff\r\nx",
            ]
            let body = bodies[Int.random(in: 0..<bodies.count, using: &random)]
            stream.writes = [
                Array("POST /api/jobs HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\(body)".utf8)
            ]
        case .conflictingLengths:
            let heads = [
                "Content-Length: 5\r\nContent-Length: 7\r\n",
                "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                "Content-Length: -3\r\n",
                "Content-Length: 99999999999999999999\r\n",
            ]
            let head = heads[Int.random(in: 0..<heads.count, using: &random)]
            stream.writes = [Array("POST /api/jobs HTTP/1.1\r\nHost: a\r\n\(head)\r\nhello".utf8)]
        case .invalidFramesAfterUpgrade:
            stream.writes = [upgrade, Self.invalidFrames(&random)]
        case .slowBytes:
            stream.writes = [Array(Self.request(number: 0).utf8)]
            stream.byteByByte = true
        }
        return stream
    }

    /// A well-formed GET the reference server answers.
    static func request(number: Int) -> String {
        "GET /healthz?n=\(number) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    }

    /// An upgrade to a protocol that is not WebSocket.
    static let h2cUpgrade = "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n"

    private static func bytes(count: Int, _ random: inout SeededRandom) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// Frames RFC 6455 forbids a client to send, or that do not parse.
    private static func invalidFrames(_ random: inout SeededRandom) -> [UInt8] {
        let frames: [[UInt8]] = [
            [0x81, 0x05] + Array("hello".utf8),  // unmasked
            [0x83, 0x80, 1, 2, 3, 4],  // reserved opcode 3
            [0x09, 0x80, 1, 2, 3, 4],  // a ping that is not final
            [0xF1, 0x80, 1, 2, 3, 4],  // every RSV bit set
            [0x81, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4],  // a length of 2^63 - 1
            [0x88, 0x81, 1, 2, 3, 4, 5],  // a close with a one-byte payload
            Self.bytes(count: 64, &random),
        ]
        return (0..<Int.random(in: 1...3, using: &random)).flatMap { _ in
            frames[Int.random(in: 0..<frames.count, using: &random)]
        }
    }
}
