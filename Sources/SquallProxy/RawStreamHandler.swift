import NIOCore

/// Passes the bytes of a stream the proxy does not inspect (not HTTP, or no longer) on as plain items, stamped with
/// the time they arrived.
final class RawStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = StreamItem

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(self.wrapInboundOut(.data(self.unwrapInboundIn(data), receivedAt: .now())))
    }
}

@available(*, unavailable)
extension RawStreamHandler: Sendable {}
