import NIOCore

/// Numbers a listener's accepted connections in the order the kernel handed them over.
///
/// The proxy's connections run on every event loop of its group, and each one is set up on its own loop, so two
/// connections accepted one after the other can be set up in either order. This handler sits on the listener and
/// sees the accepts in order, on the listener's loop, before they are handed to their loops.
final class AcceptOrderHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let stamp: @Sendable (any Channel) -> Void

    /// Creates the handler; `stamp` is called with each accepted channel, in accept order.
    init(stamp: @escaping @Sendable (any Channel) -> Void) {
        self.stamp = stamp
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.stamp(self.unwrapInboundIn(data))
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension AcceptOrderHandler: Sendable {}
