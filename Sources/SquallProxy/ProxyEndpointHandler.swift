import NIOCore

/// The last handler on each socket of a proxied connection: it hands the items the inspection handlers made, and
/// every event, to the ``ProxyConnection`` that owns both sockets, and holds reads back while the connection applies
/// backpressure. The connection writes the proxy's own messages (answers, close frames, requests to encode) from
/// here, so they go through the pipeline's encoders.
final class ProxyEndpointHandler: ChannelDuplexHandler {
    typealias InboundIn = StreamItem
    typealias OutboundIn = Never

    private let connection: ProxyConnection
    private let side: ProxyConnection.Side

    /// Creates the handler for one side of `connection`.
    init(connection: ProxyConnection, side: ProxyConnection.Side) {
        self.connection = connection
        self.side = side
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.connection.attach(context: context, side: self.side)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.connection.channelActive(side: self.side)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.connection.received(self.unwrapInboundIn(data), from: self.side)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.connection.readComplete(from: self.side)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            self.connection.inputClosed(side: self.side)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connection.channelInactive(side: self.side)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.connection.errorCaught(error, side: self.side)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.connection.writabilityChanged(side: self.side, isWritable: context.channel.isWritable)
    }

    func read(context: ChannelHandlerContext) {
        if self.connection.mayRead(side: self.side) {
            context.read()
        }
    }
}

@available(*, unavailable)
extension ProxyEndpointHandler: Sendable {}
