import NIOCore

/// Closes a connection that has been silent for the idle timeout (an `IdleStateHandler` read timeout).
package final class IdleConnectionCloser: ChannelInboundHandler {
    /// Anything: the handler only watches user events.
    package typealias InboundIn = NIOAny

    /// A closer for one connection.
    package init() {}

    /// Closes the connection on the idle event; passes every other event on.
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
