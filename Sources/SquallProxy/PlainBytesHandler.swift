import NIOCore

/// Passes bytes on as plain items. It follows a decoder that leaves after the stream switched to a protocol the
/// proxy does not inspect (an upgrade other than WebSocket, such as `h2c`): the decoder hands it the bytes it held,
/// and it passes them, and every later read, on untouched.
final class PlainBytesHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = StreamItem

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(self.wrapInboundOut(.data(self.unwrapInboundIn(data), receivedAt: .now())))
    }
}

@available(*, unavailable)
extension PlainBytesHandler: Sendable {}
