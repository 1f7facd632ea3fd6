import NIOCore
import Synchronization

/// Every connection a server has accepted and not yet closed, registered the moment it is accepted — before a
/// byte is read — so shutting down closes a client that connected and never spoke as surely as one mid-stream.
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let closed = Mutex(false)

    /// Registers an accepted connection until it closes; one accepted after ``closeAll()`` is closed at once.
    func register(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let refused = self.closed.withLock { closed in
            if !closed { self.channels.withLock { $0[key] = channel } }
            return closed
        }
        if refused {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { _ in
            self.channels.withLock { _ = $0.removeValue(forKey: key) }
        }
    }

    /// The connections open now.
    var count: Int {
        self.channels.withLock { $0.count }
    }

    /// Closes every registered connection, and every one registered from now on.
    func closeAll() {
        let open = self.closed.withLock { closed in
            closed = true
            return self.channels.withLock { Array($0.values) }
        }
        for channel in open {
            channel.close(promise: nil)
        }
    }
}

/// Closes a connection that has been silent for the idle timeout (an `IdleStateHandler` read timeout).
final class IdleConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

@available(*, unavailable)
extension IdleConnectionCloser: Sendable {}
