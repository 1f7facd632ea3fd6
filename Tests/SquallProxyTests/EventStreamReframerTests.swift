import NIOCore
import Testing

@testable import SquallProxy

/// The event-stream reframer on hand-made bodies: every block comes out as a chunk of its own, whatever chunks and
/// reads the server's bytes came in, and it stops exactly where the body ends.
@Suite struct EventStreamReframerTests {
    /// A chunk as a server writes it.
    private static func chunk(_ text: String) -> String {
        "\(String(text.utf8.count, radix: 16))\r\n\(text)\r\n"
    }

    /// Feeds `reads` one by one; returns the pieces and what was left unread of the last read.
    private static func feed(
        _ reads: [String],
        framing: EventStreamReframer.Framing = .chunked
    ) throws -> (pieces: [EventStreamReframer.Piece], left: String, finished: Bool) {
        var reframer = EventStreamReframer(framing: framing)
        var pieces: [EventStreamReframer.Piece] = []
        var left = ""
        for read in reads {
            var buffer = ByteBuffer(string: read)
            pieces += try reframer.read(&buffer)
            left = String(buffer: buffer)
        }
        return (pieces, left, reframer.isFinished)
    }

    private static func text(_ piece: EventStreamReframer.Piece) -> String {
        switch piece {
        case .block(let bytes, _), .bytes(let bytes), .last(let bytes): String(buffer: bytes)
        }
    }

    private static func isEvent(_ piece: EventStreamReframer.Piece) -> Bool? {
        if case .block(_, let isEvent) = piece { return isEvent }
        return nil
    }

    @Test func blocksSpreadOverChunksAndReadsComeOutOneChunkEach() throws {
        let blocks = ["id: 1\ndata: a\n\n", ": keep-alive\n\n", "id: 2\r\ndata: b\r\ndata: c\r\n\r\n", "data: d\r\r"]
        // One chunk with two blocks and a part, one with the rest and one more; cut into reads at awkward places.
        let wire =
            Self.chunk(blocks[0] + blocks[1] + "id: 2\r\nda") + Self.chunk("ta: b\r\ndata: c\r\n\r\n" + blocks[3])
            + "0\r\n\r\nHTTP/1.1 200 OK\r\n"
        let cuts = [1, 7, 20, 33, 34, 50, wire.utf8.count - 20]
        var reads: [String] = []
        var start = wire.startIndex
        for cut in cuts {
            let end = wire.utf8.index(wire.startIndex, offsetBy: cut)
            reads.append(String(wire[start..<end]))
            start = end
        }
        reads.append(String(wire[start...]))
        let (pieces, left, finished) = try Self.feed(reads)
        #expect(pieces.map(Self.text) == blocks.map(Self.chunk) + ["0\r\n\r\n"])
        #expect(pieces.map(Self.isEvent) == [true, false, true, true, nil])
        #expect(finished)
        #expect(left == "HTTP/1.1 200 OK\r\n", "what follows the body stays for the next answer")
    }

    @Test func trailersAndExtensionsPassAsTheServerWroteThem() throws {
        let wire = "f;name=value\r\ndata: trailer\n\n\r\n0;end\r\nX-Checksum: 1\r\n\r\n"
        let (pieces, left, finished) = try Self.feed([wire])
        #expect(pieces.map(Self.text) == [Self.chunk("data: trailer\n\n"), "0;end\r\nX-Checksum: 1\r\n\r\n"])
        #expect(finished && left.isEmpty)
    }

    @Test func aByteOrderMarkTravelsWithTheFirstBlock() throws {
        let (pieces, _, _) = try Self.feed([Self.chunk("\u{FEFF}data: a\n\n")])
        #expect(pieces.map(Self.text) == [Self.chunk("\u{FEFF}data: a\n\n")])
        #expect(pieces.map(Self.isEvent) == [true])
    }

    @Test func aBodyUntilCloseKeepsItsBlocksUnframedAndHandsOnTheUnfinishedOne() throws {
        var reframer = EventStreamReframer(framing: .untilClose)
        var buffer = ByteBuffer(string: "data: a\n\ndata: b\n\ndata: unfin")
        let pieces = try reframer.read(&buffer)
        #expect(pieces.map(Self.text) == ["data: a\n\n", "data: b\n\n"])
        #expect(reframer.finish().map(Self.text) == ["data: unfin"])
    }

    @Test(arguments: [
        "zz\r\ndata\r\n", "\r\n", "5\ndata\n", "5\r\ndata: x\r\n", "fffffffffffffffff\r\n", "-1\r\n", "+5\r\nhello\r\n",
    ])
    func brokenChunkFramingIsAnError(wire: String) {
        #expect(throws: EventStreamReframer.MalformedChunk.self) { try Self.feed([wire]) }
    }

    @Test func aChunkSizeLineWithoutEndIsBounded() {
        let line = String(repeating: "0", count: EventStreamReframer.maximumLineLength + 1)
        #expect(throws: EventStreamReframer.MalformedChunk.self) { try Self.feed([line]) }
    }

    @Test func aBlockPastTheParsersLimitTurnsTheRestIntoPlainChunks() throws {
        let huge = String(repeating: "x", count: (1 << 20) + 10)
        let (pieces, _, _) = try Self.feed([
            Self.chunk("data: a\n\n"), Self.chunk("data: " + huge), Self.chunk("\n\ndata: b\n\n"),
        ])
        #expect(pieces.map(Self.isEvent) == [true, nil, nil])
        #expect(pieces.dropFirst().map(Self.text).joined().utf8.count > huge.utf8.count, "nothing is lost")
    }
}
