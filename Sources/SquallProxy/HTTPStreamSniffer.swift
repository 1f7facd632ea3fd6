import NIOCore

/// The first inspection on a client's stream: it waits until the first bytes tell whether the stream is HTTP/1.x (a
/// known method, then a space), then hands over and leaves the pipeline. An HTTP stream's bytes go on to the request
/// inspection installed after it; any other stream's go on as one plain item, and the connection takes the later
/// ones from the wire handler.
final class HTTPStreamSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let decided: (_ isHTTP: Bool, _ sniffer: HTTPStreamSniffer) throws -> Void
    private var pending = ByteBuffer()
    /// What the stream was found to be. Once decided, the sniffer only passes what still reaches it (as the
    /// handlers it installed expect) until it has left; it never decides twice.
    private var decision: Bool?

    /// Creates a sniffer; `decided` installs what comes after it (after the sniffer, in its pipeline) once it knows.
    init(decided: @escaping (_ isHTTP: Bool, _ sniffer: HTTPStreamSniffer) throws -> Void) {
        self.decided = decided
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        if let isHTTP = self.decision {
            return self.pass(buffer, isHTTP: isHTTP, context: context)
        }
        self.pending.writeBuffer(&buffer)
        guard let isHTTP = Self.looksLikeHTTP(self.pending) else { return }
        self.decide(isHTTP: isHTTP, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A stream that ends before it could be told apart is not HTTP; what it sent still goes on, then the end.
        if case ChannelEvent.inputClosed = event, self.decision == nil {
            self.decide(isHTTP: false, context: context) {
                context.fireUserInboundEventTriggered(event)
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Installs what follows, hands it the sniffed bytes (then runs `andThen`) and leaves the pipeline.
    private func decide(isHTTP: Bool, context: ChannelHandlerContext, andThen: () -> Void = {}) {
        self.decision = isHTTP
        do {
            try self.decided(isHTTP, self)
        } catch {
            return context.fireErrorCaught(error)
        }
        let sniffed = self.pending
        self.pending = ByteBuffer()
        self.pass(sniffed, isHTTP: isHTTP, context: context)
        andThen()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// Passes bytes on as what follows the sniffer takes: bytes to NIO's request decoder, or a plain item.
    private func pass(_ bytes: ByteBuffer, isHTTP: Bool, context: ChannelHandlerContext) {
        guard bytes.readableBytes > 0 else { return }
        if isHTTP {
            context.fireChannelRead(self.wrapInboundOut(bytes))
        } else {
            context.fireChannelRead(NIOAny(StreamItem.data(bytes, receivedAt: .now())))
        }
    }

    /// Whether the bytes start like an HTTP/1.x request; nil while too short to tell.
    static func looksLikeHTTP(_ buffer: ByteBuffer) -> Bool? {
        let methods = ["GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "]
        let prefix = Array(buffer.readableBytesView.prefix(8))
        for method in methods {
            let bytes = Array(method.utf8)
            let count = min(bytes.count, prefix.count)
            if Array(bytes[0..<count]) == Array(prefix[0..<count]) {
                if count == bytes.count { return true }
                return nil
            }
        }
        return buffer.readableBytes == 0 ? nil : false
    }
}

@available(*, unavailable)
extension HTTPStreamSniffer: Sendable {}
