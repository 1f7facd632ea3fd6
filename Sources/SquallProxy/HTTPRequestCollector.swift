import NIOCore
import NIOHTTP1

/// Gathers what NIO's `HTTPRequestDecoder` decoded from the client into one item per request: the head, and the
/// body as the item's bytes. The server socket's `HTTPRequestEncoder` writes it again once the message faults are
/// done with it.
///
/// NIO's decoder stops after an upgrade request and keeps what follows. When the server has answered, the connection
/// calls ``continueHTTP()`` (the upgrade did not happen: a fresh decoder takes over the held bytes) or
/// ``switchProtocols(toWebSocket:)`` (the held bytes and all later ones are WebSocket frames, or another protocol's
/// bytes).
final class HTTPRequestCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = StreamItem

    /// A request's body grew past ``maximumRequestSize``.
    struct RequestTooLarge: Error {}

    /// Requests longer than this are not buffered for inspection.
    static let maximumRequestSize = 8 << 20

    private var decoder: ByteToMessageHandler<HTTPRequestDecoder>
    private var context: ChannelHandlerContext?
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    private init(decoder: ByteToMessageHandler<HTTPRequestDecoder>) {
        self.decoder = decoder
    }

    /// Adds NIO's request decoder and a collector after `handler`; returns the collector.
    static func install(
        after handler: any ChannelHandler,
        in pipeline: ChannelPipeline.SynchronousOperations
    ) throws -> HTTPRequestCollector {
        let decoder = Self.makeDecoder()
        let collector = HTTPRequestCollector(decoder: decoder)
        try pipeline.addHandlers([decoder, collector], position: .after(handler))
        return collector
    }

    private static func makeDecoder() -> ByteToMessageHandler<HTTPRequestDecoder> {
        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body.clear()
        case .body(var chunk):
            guard self.body.readableBytes + chunk.readableBytes <= Self.maximumRequestSize else {
                self.head = nil
                return context.fireErrorCaught(RequestTooLarge())
            }
            self.body.writeBuffer(&chunk)
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let body = self.body
            self.body = ByteBuffer()
            context.fireChannelRead(self.wrapInboundOut(.data(body, receivedAt: .now(), unit: .request(head))))
        }
    }

    /// The upgrade request did not switch protocols: a fresh decoder goes in after the stopped one, which hands it
    /// the bytes it held as it leaves.
    func continueHTTP() {
        guard let pipeline = self.context?.pipeline.syncOperations else { return }
        let stopped = self.decoder
        let fresh = Self.makeDecoder()
        do {
            try pipeline.addHandler(fresh, position: .after(stopped))
            self.decoder = fresh
            pipeline.removeHandler(stopped, promise: nil)
        } catch {
            self.context?.fireErrorCaught(error)
        }
    }

    /// The server switched protocols: frame inspection (for WebSocket) or plain bytes go in after the stopped
    /// decoder, which hands them the bytes it held as it leaves; this collector leaves at once.
    func switchProtocols(toWebSocket webSocket: Bool) {
        guard let context = self.context else { return }
        let pipeline = context.pipeline.syncOperations
        do {
            try SwitchedStreamInspection.install(webSocket: webSocket, after: self.decoder, in: pipeline)
            pipeline.removeHandler(context: context, promise: nil)
            pipeline.removeHandler(self.decoder, promise: nil)
        } catch {
            context.fireErrorCaught(error)
        }
    }
}

@available(*, unavailable)
extension HTTPRequestCollector: Sendable {}
