import SquallReferenceProtocol
import Testing

@Suite struct ServerSentEventParserTests {
    /// Parses `pieces` in order with one parser.
    private func parse(
        _ pieces: [String],
        limit: Int = 1 << 20
    ) throws -> (
        blocks: [ServerSentEventParser.Block], parser: ServerSentEventParser
    ) {
        var parser = ServerSentEventParser(maximumBlockSize: limit)
        var blocks: [ServerSentEventParser.Block] = []
        for piece in pieces { blocks += try parser.feed(Array(piece.utf8)) }
        return (blocks, parser)
    }

    private func events(_ blocks: [ServerSentEventParser.Block]) -> [ServerSentEvent] {
        blocks.compactMap(\.event)
    }

    @Test func aBlockDispatchesItsEventWithTypeDataAndId() throws {
        let stream = "id: 7\nevent: progress\ndata: {\"a\":1}\ndata: second\n\n"
        let (blocks, parser) = try self.parse([stream])
        #expect(
            self.events(blocks) == [ServerSentEvent(type: "progress", data: "{\"a\":1}\nsecond", lastEventId: "7")]
        )
        #expect(blocks.map(\.byteCount) == [stream.utf8.count])
        #expect(parser.lastEventId == "7")
        #expect(parser.pendingByteCount == 0)
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func everyLineEndReadsTheSame(lineEnd: String) throws {
        let lines = ["retry: 1500", "id: 1", "data: one", "", ": keep-alive", "", "event: end", "data: two", ""]
        let stream = lines.map { $0 + lineEnd }.joined()
        let (blocks, parser) = try self.parse([stream])
        #expect(
            self.events(blocks) == [
                ServerSentEvent(data: "one", lastEventId: "1"),
                ServerSentEvent(type: "end", data: "two", lastEventId: "1"),
            ]
        )
        #expect(blocks.map(\.hasComment) == [false, true, false])
        #expect(blocks.map(\.retry) == [1500, nil, nil])
        #expect(parser.retry == 1500)
        // Every byte belongs to exactly one block.
        #expect(blocks.map(\.byteCount).reduce(0, +) == stream.utf8.count)
        #expect(
            blocks[0].byteCount == ["retry: 1500", "id: 1", "data: one", ""].map { $0 + lineEnd }.joined().utf8.count
        )
    }

    @Test func eventsCutAcrossReadsReadAsWhole() throws {
        let stream = "\u{FEFF}id: 1\r\ndata: α\r\n\r\n:ping\r\n\r\nid: 2\rdata: b\rdata: c\r\rdata: d\n\n"
        let whole = try self.parse([stream]).blocks
        // Byte by byte: the BOM, a multi-byte character and every CRLF are split.
        var parser = ServerSentEventParser()
        var pieces: [ServerSentEventParser.Block] = []
        for byte in Array(stream.utf8) { pieces += try parser.feed([byte]) }
        #expect(self.events(pieces) == self.events(whole))
        #expect(
            self.events(whole) == [
                ServerSentEvent(data: "α", lastEventId: "1"), ServerSentEvent(data: "b\nc", lastEventId: "2"),
                ServerSentEvent(data: "d", lastEventId: "2"),
            ]
        )
        #expect(pieces.map(\.byteCount).reduce(0, +) == stream.utf8.count)
        #expect(whole.map(\.byteCount).reduce(0, +) == stream.utf8.count)
    }

    @Test func theLineFeedOfACRLFInTheSamePieceStaysWithItsBlock() throws {
        let (blocks, _) = try self.parse(["data: a\r\n\r\ndata: b\r\n\r\n"])
        #expect(blocks.map(\.byteCount) == [11, 11])
        // Split between a block's CR and its LF: the LF counts with the next block, and is not a blank line.
        let (split, _) = try self.parse(["data: a\r\n\r", "\ndata: b\r\n\r\n"])
        #expect(split.map(\.byteCount) == [10, 12])
        #expect(self.events(split).map(\.data) == ["a", "b"])
    }

    @Test func aByteOrderMarkIsSkippedOnlyAtTheStart() throws {
        let bom = "\u{FEFF}"
        let (blocks, _) = try self.parse([bom + "data: x\n\n" + bom + "data: y\n\ndata: z\n\n"])
        // The second mark is part of a field name, so that field is ignored.
        #expect(self.events(blocks).map(\.data) == ["x", "z"])
        #expect(blocks[0].byteCount == 3 + 9)
        // A mark split over pieces.
        var parser = ServerSentEventParser()
        var split = try parser.feed([0xEF])
        split += try parser.feed([0xBB, 0xBF] + Array("data: w\n\n".utf8))
        #expect(self.events(split).map(\.data) == ["w"])
        // Bytes that only start like a mark are content.
        var notMark = ServerSentEventParser()
        #expect(
            try notMark.feed([0xEF, 0xBB] + Array("data: v\n\ndata: u\n\n".utf8)).compactMap(\.event?.data) == ["u"]
        )
    }

    @Test func fieldsFollowTheStandard() throws {
        let stream = [
            "data", "", "data:x", "", "data:  two spaces", "", "event: orphan", "", "data: after", "",
            "id: with\u{0}nul", "data: nul", "", "retry: 12a", "retry: 40", "", "unknown: field", "data: last", "",
            "id", "data: reset", "",
        ].map { $0 + "\n" }.joined()
        let (blocks, parser) = try self.parse([stream])
        #expect(
            self.events(blocks) == [
                ServerSentEvent(data: ""), ServerSentEvent(data: "x"), ServerSentEvent(data: " two spaces"),
                // An event type without data dispatches nothing and does not carry over.
                ServerSentEvent(data: "after"),
                // An id holding a NUL is ignored.
                ServerSentEvent(data: "nul"), ServerSentEvent(data: "last"),
                // `id` without a value clears the last id.
                ServerSentEvent(data: "reset", lastEventId: ""),
            ]
        )
        #expect(blocks.compactMap(\.retry) == [40])
        #expect(parser.retry == 40)
        #expect(parser.lastEventId == "")
    }

    @Test func theLastEventIdCarriesOverUntilSetAgain() throws {
        let (blocks, _) = try self.parse(["id: 3\ndata: a\n\ndata: b\n\nid: 4\n\ndata: c\n\n"])
        #expect(self.events(blocks).map(\.lastEventId) == ["3", "3", "4"])
        #expect(blocks.map(\.lastEventId) == ["3", "3", "4", "4"])
    }

    @Test func anUnfinishedBlockIsHeldNotDispatched() throws {
        let (blocks, parser) = try self.parse(["data: a\n\ndata: half"])
        #expect(self.events(blocks).map(\.data) == ["a"])
        #expect(parser.pendingByteCount == "data: half".utf8.count)
    }

    @Test func aBlockPastTheLimitFailsAndStaysFailed() throws {
        var parser = ServerSentEventParser(maximumBlockSize: 16)
        #expect(try parser.feed(Array("data: 123456\n\n".utf8)).count == 1)
        #expect(throws: ServerSentEventParser.BlockTooLarge(limit: 16)) {
            try parser.feed(Array("data: 1234567890\n".utf8))
        }
        #expect(throws: ServerSentEventParser.BlockTooLarge(limit: 16)) { try parser.feed(Array("\n".utf8)) }
    }

    @Test func encodedEventsReadBackAsWritten() throws {
        let event = ServerSentEvent(type: "progress", data: "a\nb\r\nc\rd", lastEventId: "5")
        var bytes = event.encoded(id: "5")
        bytes += ServerSentEvent.comment("keep-alive") + ServerSentEvent.retry(milliseconds: 250)
        bytes += ServerSentEvent(data: "plain").encoded(id: nil)
        var parser = ServerSentEventParser()
        let blocks = try parser.feed(bytes)
        #expect(
            blocks.map(\.event) == [
                ServerSentEvent(type: "progress", data: "a\nb\nc\nd", lastEventId: "5"), nil, nil,
                ServerSentEvent(data: "plain", lastEventId: "5"),
            ]
        )
        #expect(blocks.map(\.hasComment) == [false, true, false, false])
        #expect(blocks.map(\.retry) == [nil, nil, 250, nil])
        #expect(String(decoding: event.encoded(id: "5"), as: UTF8.self).hasPrefix("id: 5\nevent: progress\ndata: a\n"))
    }
}
