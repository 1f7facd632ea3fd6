import NIOCore
import NIOHTTP1

/// Reads the server's answers with NIO's `HTTPResponseDecoder`, which saw the requests written through the
/// pipeline, and forwards the original bytes. It tells the connection where each answer ends (so the proxy's own
/// answers to pipelined requests take their turn, see ``PipelinedExchanges``), and reads the answer to an upgrade
/// request closely: its head as one item, and after a `101 Switching Protocols` the rest as WebSocket frames (or
/// plain bytes, for another protocol such as `h2c`).
///
/// It sits behind a ``RecordingTap`` and the decoder, in the server socket's pipeline, from the first request
/// written. After a 101 the three leave and frame inspection (or a ``PlainBytesHandler``) takes their place. After
/// any other status the stream stays HTTP: the decoder goes on pairing responses with the requests written
/// (keep-alive), and every byte recorded is passed on as it came.
final class ServerAnswerCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = StreamItem

    /// The answer's head did not end where the decoder said it did.
    struct MalformedAnswer: Error {}

    private enum State {
        /// Waiting for the answer's head.
        case awaitingHead
        /// The server switched protocols; the decoder's end of the answer comes next.
        case switching
        /// Any other status: bytes pass as they come.
        case passingThrough
        /// An event stream's body: its blocks go on one by one (``EventStreamReframer``).
        case streamingEvents
    }

    private let tap: RecordingTap
    private let decoder: ByteToMessageHandler<HTTPResponseDecoder>
    private let answered: (_ status: Int, _ webSocket: Bool) -> Void
    private let ended: () -> Void
    private var state = State.passingThrough
    /// Whether the request awaiting its answer asked for WebSocket.
    private var webSocket: Bool
    /// Answers to come before the upgrade request's, when one is written behind pipelined requests; nil when none
    /// is pending.
    private var answersBeforeUpgrade: Int?
    /// The event stream's body being cut into blocks, while ``State/streamingEvents``.
    private var eventStream: EventStreamReframer?

    private init(
        tap: RecordingTap,
        decoder: ByteToMessageHandler<HTTPResponseDecoder>,
        answered: @escaping (Int, Bool) -> Void,
        ended: @escaping () -> Void
    ) {
        self.webSocket = false
        self.tap = tap
        self.decoder = decoder
        self.answered = answered
        self.ended = ended
    }

    /// Adds a tap, NIO's response decoder and a collector after `handler`. Add them before the first request is
    /// written, so the decoder pairs every answer with its request.
    ///
    /// - Parameters:
    ///   - answered: called with the status of an answer to an upgrade request and whether that request asked for
    ///     WebSocket, after the answer's head went on.
    ///   - ended: called when an answer that did not switch protocols has ended and its bytes went on.
    /// - Returns: the collector.
    static func install(
        after handler: any ChannelHandler,
        in pipeline: ChannelPipeline.SynchronousOperations,
        answered: @escaping (_ status: Int, _ webSocket: Bool) -> Void,
        ended: @escaping () -> Void
    ) throws -> ServerAnswerCollector {
        let tap = RecordingTap(recording: RecordingTap.Recording())
        let decoder = ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes))
        let collector = ServerAnswerCollector(tap: tap, decoder: decoder, answered: answered, ended: ended)
        try pipeline.addHandlers([tap, decoder, collector], position: .after(handler))
        return collector
    }

    /// An upgrade request is about to be written: its answer comes after the answers still due to the requests
    /// written before it (pipelined requests), in the order the decoder pairs them.
    ///
    /// - Parameters:
    ///   - webSocket: whether the request asks for WebSocket (after a 101 the stream is frames, else plain bytes).
    ///   - answersBefore: answers still due to requests written before it.
    func expectAnswer(webSocket: Bool, answersBefore: Int) {
        switch self.state {
        case .passingThrough, .streamingEvents: break
        case .awaitingHead, .switching: return
        }
        self.webSocket = webSocket
        self.answersBeforeUpgrade = answersBefore
        if answersBefore <= 0 {
            self.state = .awaitingHead
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (self.state, self.unwrapInboundIn(data)) {
        case (.awaitingHead, .head(let head)) where head.status == .switchingProtocols:
            self.answersBeforeUpgrade = nil
            guard let length = Self.endOfHead(self.tap.recording.bytes), let bytes = self.tap.recording.take(length)
            else {
                return context.fireErrorCaught(MalformedAnswer())
            }
            self.state = .switching
            context.fireChannelRead(
                self.wrapInboundOut(.data(bytes, receivedAt: .now(), unit: .upgradeResponse(status: 101)))
            )
            self.answered(101, self.webSocket)
        case (.awaitingHead, .head(let head)):
            self.answersBeforeUpgrade = nil
            self.state = .passingThrough
            let bytes = self.tap.recording.takeAll()
            let status = Int(head.status.code)
            context.fireChannelRead(
                self.wrapInboundOut(.data(bytes, receivedAt: .now(), unit: .upgradeResponse(status: status)))
            )
            self.answered(status, self.webSocket)
        case (.switching, .end):
            // Frames (or plain bytes) follow: their handlers go in right after the decoder, which hands them what
            // it holds as it leaves.
            let pipeline = context.pipeline.syncOperations
            do {
                try SwitchedStreamInspection.install(webSocket: self.webSocket, after: self, in: pipeline)
            } catch {
                return context.fireErrorCaught(error)
            }
            pipeline.removeHandler(context: context, promise: nil)
            pipeline.removeHandler(self.tap, promise: nil)
            pipeline.removeHandler(self.decoder, promise: nil)
        case (.passingThrough, .end):
            self.passRecordedBytes(context: context)
            self.answerEnded()
        case (.passingThrough, .head(let head)):
            guard let framing = Self.eventStreamFraming(head), let length = Self.endOfHead(self.tap.recording.bytes),
                let bytes = self.tap.recording.take(length)
            else {
                // Not an event stream, or its head already went on with the answer before it (pipelined).
                return self.passRecordedBytes(context: context)
            }
            context.fireChannelRead(self.wrapInboundOut(.data(bytes, receivedAt: .now())))
            self.eventStream = EventStreamReframer(framing: framing)
            self.state = .streamingEvents
            self.readEventStream(context: context)
        case (.streamingEvents, .end):
            self.readEventStream(context: context)
            guard var stream = self.eventStream else { return }
            if !stream.isFinished {
                // A close-delimited body ends when the server closes; a chunked one must have read its last chunk
                // (or have had no body at all: the answer to a HEAD).
                guard !stream.hasStarted || stream.framing == .untilClose else {
                    return context.fireErrorCaught(EventStreamReframer.MalformedChunk(reason: "the body ended early"))
                }
                self.emit(stream.finish(), context: context)
            }
            self.eventStream = nil
            self.state = .passingThrough
            self.answerEnded()
        case (.streamingEvents, _):
            self.readEventStream(context: context)
        case (.passingThrough, _):
            self.passRecordedBytes(context: context)
        case (.awaitingHead, _), (.switching, _):
            break
        }
    }

    /// An answer that did not switch protocols ended and its bytes went on.
    private func answerEnded() {
        // Counted before `ended`, which may write the next request (and call `expectAnswer`) at once.
        if let before = self.answersBeforeUpgrade {
            self.answersBeforeUpgrade = before - 1
            if before - 1 <= 0 { self.state = .awaitingHead }
        }
        self.ended()
    }

    /// Cuts what was read of the event stream's body into blocks and sends them on; bytes after the body's end stay
    /// recorded for the next answer.
    private func readEventStream(context: ChannelHandlerContext) {
        guard var stream = self.eventStream else { return }
        let pieces: [EventStreamReframer.Piece]
        do {
            pieces = try self.tap.recording.read { buffer throws(EventStreamReframer.MalformedChunk) in
                try stream.read(&buffer)
            }
        } catch {
            self.eventStream = nil
            return context.fireErrorCaught(error)
        }
        self.eventStream = stream
        self.emit(pieces, context: context)
    }

    private func emit(_ pieces: [EventStreamReframer.Piece], context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        for piece in pieces {
            switch piece {
            case .block(let bytes, let isEvent):
                context.fireChannelRead(
                    self.wrapInboundOut(.data(bytes, receivedAt: now, unit: .eventBlock(isEvent: isEvent)))
                )
            case .bytes(let bytes), .last(let bytes):
                context.fireChannelRead(self.wrapInboundOut(.data(bytes, receivedAt: now)))
            }
        }
    }

    /// How an answer's body is framed when the answer is an event stream the proxy can cut into blocks: a 2xx with
    /// a body, `Content-Type: text/event-stream`, chunked or without a length. nil for every other answer (one with
    /// a `Content-Length` keeps its bytes as they are: dropping a block would break its length).
    private static func eventStreamFraming(_ head: HTTPResponseHead) -> EventStreamReframer.Framing? {
        guard (200..<300).contains(head.status.code), head.status != .noContent,
            let type = head.headers.first(name: "content-type"),
            String(type.lowercased().drop { $0 == " " || $0 == "\t" }).hasPrefix("text/event-stream")
        else { return nil }
        if head.headers[canonicalForm: "transfer-encoding"].contains(where: { $0.lowercased() == "chunked" }) {
            return .chunked
        }
        if head.headers.contains(name: "content-length") || head.headers.contains(name: "transfer-encoding") {
            return nil
        }
        return .untilClose
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        switch self.state {
        case .passingThrough: self.passRecordedBytes(context: context)
        // Framing bytes alone (a chunk's CRLF) make no decoder event.
        case .streamingEvents: self.readEventStream(context: context)
        case .awaitingHead, .switching: break
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch self.state {
        case .passingThrough: self.passRecordedBytes(context: context)
        case .streamingEvents: self.readEventStream(context: context)
        case .awaitingHead, .switching: break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Once the upgrade is settled the decoder only follows along; what it cannot parse still passes untouched.
        if case .passingThrough = self.state, !(error is IOError) {
            return self.passRecordedBytes(context: context)
        }
        context.fireErrorCaught(error)
    }

    private func passRecordedBytes(context: ChannelHandlerContext) {
        let bytes = self.tap.recording.takeAll()
        if bytes.readableBytes > 0 {
            context.fireChannelRead(self.wrapInboundOut(.data(bytes, receivedAt: .now())))
        }
    }

    /// Where the answer's head ends (just after the blank line), if it has been recorded. Only the boundary is
    /// found here; the head itself was parsed by NIO's decoder.
    private static func endOfHead(_ buffer: ByteBuffer) -> Int? {
        let bytes = buffer.readableBytesView
        var index = bytes.startIndex
        while index + 3 < bytes.endIndex {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index - bytes.startIndex + 4
            }
            index += 1
        }
        return nil
    }
}

@available(*, unavailable)
extension ServerAnswerCollector: Sendable {}
