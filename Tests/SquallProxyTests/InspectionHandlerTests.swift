import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import Testing

@testable import SquallProxy

/// The inspection handlers of a proxied connection's pipelines, each driven through an `EmbeddedChannel`: what
/// items they make of the bytes read, and that every byte comes out exactly once, in order.
@Suite struct InspectionHandlerTests {
    /// A channel whose client-side inspection starts with a sniffer, as the proxy sets it up; the returned box
    /// receives the request collector once the sniffer found HTTP.
    private func clientChannel() throws -> (EmbeddedChannel, CollectorBox) {
        let channel = EmbeddedChannel()
        let box = CollectorBox()
        let sniffer = HTTPStreamSniffer { [channel] isHTTP, sniffer in
            let pipeline = channel.pipeline.syncOperations
            // A stream that is not HTTP is raw: in the proxy, its wire handler takes the later bytes.
            if isHTTP {
                box.collector = try HTTPRequestCollector.install(after: sniffer, in: pipeline)
            }
        }
        try channel.pipeline.syncOperations.addHandler(sniffer)
        return (channel, box)
    }

    /// Holds the request collector a sniffer installs.
    private final class CollectorBox {
        var collector: HTTPRequestCollector?
    }

    /// Every item the channel's handlers passed on so far.
    private func items(_ channel: EmbeddedChannel) throws -> [StreamItem] {
        var items: [StreamItem] = []
        while let item = try channel.readInbound(as: StreamItem.self) {
            items.append(item)
        }
        return items
    }

    private func bytes(of item: StreamItem) -> String {
        guard case .data(let buffer, _, _) = item else { return "<end>" }
        return String(buffer: buffer)
    }

    private func buffer(of item: StreamItem) -> ByteBuffer? {
        guard case .data(let buffer, _, _) = item else { return nil }
        return buffer
    }

    private func unit(of item: StreamItem) -> ProtocolUnit? {
        guard case .data(_, _, let unit) = item else { return nil }
        return unit
    }

    /// The bytes of one frame as a client sends it (masked) or a server does (not).
    private func frame(_ text: String, opcode: WebSocketOpcode = .text, masked: Bool) throws -> ByteBuffer {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        let frame = WebSocketFrame(
            fin: true,
            opcode: opcode,
            maskKey: masked ? WebSocketMaskingKey([1, 2, 3, 4])! : nil,
            data: ByteBuffer(string: text)
        )
        try channel.writeOutbound(frame)
        var result = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) {
            result.writeBuffer(&chunk)
        }
        _ = try channel.finish()
        return result
    }

    private let upgradeRequest =
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    @Test func requestsCutAcrossReadsComeOutWholeWithTheirBodies() throws {
        let (channel, _) = try self.clientChannel()
        let text =
            "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "GET /jobs/1 HTTP/1.1\r\nHost: x\r\n\r\n"
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: 7) {
            try channel.writeInbound(ByteBuffer(bytes: bytes[start..<min(start + 7, bytes.count)]))
        }
        let items = try self.items(channel)
        #expect(items.count == 2)
        guard items.count == 2, case .request(let post) = self.unit(of: items[0]),
            case .request(let get) = self.unit(of: items[1])
        else { return }
        #expect(post.method == .POST && post.uri == "/jobs")
        #expect(self.bytes(of: items[0]) == "hello")
        #expect(get.method == .GET && get.uri == "/jobs/1")
        #expect(self.bytes(of: items[1]) == "")
        #expect(try channel.finish().isClean)
    }

    @Test func aStreamThatIsNotHTTPPassesUntouchedAndTheSnifferLeaves() throws {
        let (channel, box) = try self.clientChannel()
        try channel.writeInbound(ByteBuffer(bytes: [0x16, 0x03, 0x01]))
        let items = try self.items(channel)
        #expect(box.collector == nil)
        #expect(items.map { self.bytes(of: $0) } == ["\u{16}\u{03}\u{01}"])
        #expect(items.allSatisfy { self.unit(of: $0) == .bytes })
        #expect((try? channel.pipeline.syncOperations.handler(type: HTTPStreamSniffer.self)) == nil)
        try channel.writeInbound(ByteBuffer(string: "more"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "more"))
    }

    @Test func aStreamEndingBeforeItCouldBeToldApartStillPassesItsBytes() throws {
        let (channel, _) = try self.clientChannel()
        try channel.writeInbound(ByteBuffer(string: "GE"))
        #expect(try self.items(channel).isEmpty)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try self.items(channel).map { self.bytes(of: $0) } == ["GE"])
    }

    @Test func afterAnUpgradeRequestTheClientsBytesWaitForTheAnswerThenComeOutAsFrames() throws {
        let (channel, box) = try self.clientChannel()
        var bytes = ByteBuffer(string: self.upgradeRequest)
        var first = try self.frame("one", masked: true)
        let second = try self.frame(String(repeating: "x", count: 300), opcode: .binary, masked: true)
        bytes.writeBuffer(&first)
        try channel.writeInbound(bytes)
        let request = try self.items(channel)
        #expect(request.count == 1)
        if case .request(let head) = request.first.flatMap(self.unit(of:)) {
            #expect(head.isWebSocketUpgrade)
        } else {
            Issue.record("no upgrade request: \(request)")
        }
        // Until the server answers, NIO's decoder holds what followed the request.
        try channel.writeInbound(second)
        #expect(try self.items(channel).isEmpty)
        box.collector?.switchProtocols(toWebSocket: true)
        channel.embeddedEventLoop.run()
        let frames = try self.items(channel)
        #expect(frames.map { self.unit(of: $0) } == [.frame(.text), .frame(.binary)])
        let expected = [try self.frame("one", masked: true), second]
        #expect(frames.map(self.buffer(of:)) == expected)
        // Later frames, cut anywhere, come out whole.
        var third = try self.frame("three", masked: true)
        let head = third.readSlice(length: 3)!
        try channel.writeInbound(head)
        #expect(try self.items(channel).isEmpty)
        try channel.writeInbound(third)
        #expect(try self.items(channel).map(\.byteCount) == [2 + 4 + 5])
    }

    @Test func anUpgradeToAnotherProtocolHandsItsBytesOnPlain() throws {
        let (channel, box) = try self.clientChannel()
        let request = "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: request + "PRI * HTTP/2.0\r\n"))
        let first = try self.items(channel)
        if case .request(let head) = first.first.flatMap(self.unit(of:)) {
            #expect(head.isUpgradeRequest && !head.isWebSocketUpgrade)
        } else {
            Issue.record("no upgrade request: \(first)")
        }
        #expect(first.count == 1, "what follows an upgrade request waits for the answer")
        box.collector?.switchProtocols(toWebSocket: false)
        channel.embeddedEventLoop.run()
        try channel.writeInbound(ByteBuffer(string: "\r\nSM\r\n\r\n"))
        let rest = try self.items(channel)
        #expect(rest.map { self.bytes(of: $0) }.joined() == "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        #expect(rest.allSatisfy { self.unit(of: $0) == .bytes })
    }

    @Test func aRefusedUpgradeLeavesTheClientsStreamHTTP() throws {
        let (channel, box) = try self.clientChannel()
        try channel.writeInbound(ByteBuffer(string: self.upgradeRequest + "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(try self.items(channel).count == 1)
        box.collector?.continueHTTP()
        channel.embeddedEventLoop.run()
        let next = try self.items(channel)
        #expect(next.count == 1)
        if case .request(let head) = next.first.flatMap(self.unit(of:)) {
            #expect(head.uri == "/poll")
        } else {
            Issue.record("the held request did not come out: \(next)")
        }
        try channel.writeInbound(ByteBuffer(string: "GET /poll2 HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(try self.items(channel).count == 1)
    }

    @Test func garbageAfterTheRequestLineIsAnError() throws {
        let (channel, _) = try self.clientChannel()
        #expect(throws: (any Error).self) {
            try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHo st\u{0}: x\r\n\r\n"))
        }
    }

    /// A server-side pipeline awaiting the answer to an upgrade request written through it, after `before` plain
    /// GETs written (and not yet answered) ahead of it.
    private func answerChannel(before: Int = 0) throws -> (EmbeddedChannel, StatusBox) {
        let channel = EmbeddedChannel()
        let box = StatusBox()
        let encoder = HTTPRequestEncoder()
        try channel.pipeline.syncOperations.addHandler(encoder)
        let collector = try ServerAnswerCollector.install(
            after: encoder,
            in: channel.pipeline.syncOperations,
            answered: { status, _ in box.statuses.append(status) },
            ended: { box.ended += 1 }
        )
        for _ in 0..<before {
            try channel.writeOutbound(
                HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/a"))
            )
            try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        }
        collector.expectAnswer(webSocket: true, answersBefore: before)
        var headers = HTTPHeaders()
        headers.add(name: "Upgrade", value: "websocket")
        headers.add(name: "Connection", value: "Upgrade")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ws", headers: headers)
        try channel.writeOutbound(HTTPClientRequestPart.head(head))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        while try channel.readOutbound(as: IOData.self) != nil {}
        return (channel, box)
    }

    /// Holds the statuses an answer collector reported.
    private final class StatusBox {
        var statuses: [Int] = []
        var ended = 0
    }

    @Test func a101IsOneItemAndWhatFollowsItIsFrames() throws {
        let (channel, box) = try self.answerChannel()
        let answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        var bytes = ByteBuffer(string: answer)
        var frame = try self.frame("ready", masked: false)
        bytes.writeBuffer(&frame)
        // The answer arrives cut in two, the cut inside the blank line.
        let cut = answer.utf8.count - 2
        try channel.writeInbound(bytes.getSlice(at: 0, length: cut)!)
        #expect(try self.items(channel).isEmpty)
        try channel.writeInbound(bytes.getSlice(at: cut, length: bytes.readableBytes - cut)!)
        channel.embeddedEventLoop.run()
        let items = try self.items(channel)
        #expect(box.statuses == [101])
        #expect(box.ended == 0, "a 101 ends no answer: the connection learns of the switch instead")
        #expect(items.map { self.unit(of: $0) } == [.upgradeResponse(status: 101), .frame(.text)])
        #expect(items.first.map { self.bytes(of: $0) } == answer)
        #expect(items.last.map(\.byteCount) == 2 + 5)
        // The answer's decoder has left; frames keep coming out whole.
        #expect((try? channel.pipeline.syncOperations.handler(type: ServerAnswerCollector.self)) == nil)
        try channel.writeInbound(try self.frame("later", masked: false))
        #expect(try self.items(channel).map { self.unit(of: $0) } == [.frame(.text)])
    }

    @Test func a101ToAnotherProtocolIsFollowedByPlainBytes() throws {
        let channel = EmbeddedChannel()
        let encoder = HTTPRequestEncoder()
        try channel.pipeline.syncOperations.addHandler(encoder)
        let collector = try ServerAnswerCollector.install(
            after: encoder,
            in: channel.pipeline.syncOperations,
            answered: { _, _ in },
            ended: {}
        )
        collector.expectAnswer(webSocket: false, answersBefore: 0)
        var headers = HTTPHeaders()
        headers.add(name: "Upgrade", value: "h2c")
        headers.add(name: "Connection", value: "Upgrade")
        try channel.writeOutbound(
            HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers))
        )
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        let answer = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: answer + "\u{0}\u{0}\u{4}"))
        channel.embeddedEventLoop.run()
        try channel.writeInbound(ByteBuffer(string: "more"))
        let items = try self.items(channel)
        #expect(items.first.flatMap(self.unit(of:)) == .upgradeResponse(status: 101))
        #expect(items.dropFirst().allSatisfy { self.unit(of: $0) == .bytes })
        #expect(items.dropFirst().map { self.bytes(of: $0) }.joined() == "\u{0}\u{0}\u{4}more")
    }

    @Test func anUpgradeBehindAPipelinedRequestIsPairedWithItsOwnAnswer() throws {
        // A GET, then an upgrade written behind it before its answer: the first answer (200) is the GET's, passed
        // as bytes and counted as ended; the 101 after it is the upgrade's.
        let (channel, box) = try self.answerChannel(before: 1)
        let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        let switching = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        // Each answer in a read of its own. (Both in one read are not told apart: the recorded bytes of a read are
        // passed on together, so the 101's head is not found and the connection is closed as malformed.)
        try channel.writeInbound(ByteBuffer(string: ok))
        var bytes = ByteBuffer(string: switching)
        var frame = try self.frame("ready", masked: false)
        bytes.writeBuffer(&frame)
        try channel.writeInbound(bytes)
        channel.embeddedEventLoop.run()
        let items = try self.items(channel)
        #expect(box.statuses == [101], "only the upgrade's answer is taken for it")
        #expect(box.ended == 1, "the GET's answer ended")
        #expect(items.map { self.unit(of: $0) } == [.bytes, .upgradeResponse(status: 101), .frame(.text)])
        #expect(items.first.map { self.bytes(of: $0) } == ok)
    }

    @Test func aRefusalPassesEveryByteAsItCame() throws {
        let (channel, box) = try self.answerChannel()
        let answer = "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"
        try channel.writeInbound(ByteBuffer(string: answer))
        let items = try self.items(channel)
        #expect(box.statuses == [403])
        #expect(box.ended == 1, "the refusal's end is reported once its body went on")
        #expect(items.map { self.bytes(of: $0) }.joined() == answer)
        #expect(items.first.flatMap(self.unit(of:)) == .upgradeResponse(status: 403))
        // Whatever the server sends later passes untouched, even what is not HTTP.
        try channel.writeInbound(ByteBuffer(string: "\u{0}garbage"))
        channel.pipeline.fireChannelReadComplete()
        #expect(try self.items(channel).map { self.bytes(of: $0) }.joined() == "\u{0}garbage")
    }

    @Test func anAnswerThatIsNotHTTPIsAnError() throws {
        let (channel, box) = try self.answerChannel()
        #expect(throws: (any Error).self) {
            try channel.writeInbound(ByteBuffer(string: "SSH-2.0-OpenSSH\r\n\r\n"))
        }
        #expect(box.statuses.isEmpty)
    }

    /// A place to install handlers after.
    private final class Anchor: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
    }

    /// Frame inspection on its own, as it is installed after an upgrade.
    private func frameChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let anchor = Anchor()
        try channel.pipeline.syncOperations.addHandler(anchor)
        try WebSocketFrameCutter.install(after: anchor, in: channel.pipeline.syncOperations)
        try channel.pipeline.syncOperations.removeHandler(anchor).wait()
        return channel
    }

    @Test func aFrameWithALongerLengthEncodingThanNeededIsCutWhereItEnds() throws {
        let channel = try self.frameChannel()
        // A 10-byte text frame whose length is given in the 2-byte field (allowed on the wire, not minimal), then a
        // minimal one.
        var bytes = ByteBuffer(bytes: [0x81, 126, 0, 10])
        bytes.writeString("0123456789")
        let next = try self.frame("next", masked: false)
        bytes.writeImmutableBuffer(next)
        try channel.writeInbound(bytes)
        let items = try self.items(channel)
        #expect(items.map(\.byteCount) == [14, 6])
        #expect(items.last.flatMap(self.buffer(of:)) == next)
    }

    @Test func bytesThatAreNotWebSocketFramingAreAnError() throws {
        let channel = try self.frameChannel()
        // A ping that is not final: control frames must not be fragmented.
        #expect(throws: (any Error).self) {
            try channel.writeInbound(ByteBuffer(bytes: [0x09, 0x00]))
        }
    }
}
