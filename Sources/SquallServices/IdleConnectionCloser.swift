import NIOCore

/// Closes a connection that has been silent for the idle timeout (an `IdleStateHandler` read timeout).
package final class IdleConnectionCloser: ChannelInboundHandler {
    package typealias InboundIn = NIOAny

    /// A closer for one connection.
    package init() {}

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

@available(*, unavailable)
extension IdleConnectionCloser: Sendable {}
