import NIOCore

/// Told of every connection the client opens: that a connect is about to start, then its local port once it is
/// connected (or that it failed), and again when it closes.
///
/// A test harness uses it to learn which client a connection through its proxy belongs to (Squall's scenarios key
/// fault targeting on it); the app's own logic never needs it. The client does not bind a port before connecting —
/// the kernel picks it at connect, which is far cheaper than a bind to port 0 with thousands of sockets open — so the
/// harness learns the port a moment after the far end may have accepted; ``connecting`` lets it know a report is
/// on its way. A port the kernel picks at connect is unique toward one destination only, so the port connected to
/// is reported with it.
public struct SourcePortObserver: Sendable {
    /// Called on the connection's event loop just before the connect; returns a number naming this attempt.
    public var connecting: @Sendable () -> UInt64
    /// Called on the connection's event loop once connected, with the attempt's number, the local port and the port
    /// connected to.
    public var connected: @Sendable (_ attempt: UInt64, _ port: Int, _ toPort: Int) -> Void
    /// Called when the attempt ended without a connection.
    public var failed: @Sendable (_ attempt: UInt64) -> Void
    /// Called once a connection that was reported connected has closed, with its two ports.
    public var closed: @Sendable (_ port: Int, _ toPort: Int) -> Void

    /// Creates an observer.
    public init(
        connecting: @escaping @Sendable () -> UInt64,
        connected: @escaping @Sendable (_ attempt: UInt64, _ port: Int, _ toPort: Int) -> Void,
        failed: @escaping @Sendable (_ attempt: UInt64) -> Void,
        closed: @escaping @Sendable (_ port: Int, _ toPort: Int) -> Void
    ) {
        self.connecting = connecting
        self.connected = connected
        self.failed = failed
        self.closed = closed
    }
}

extension SourcePortObserver {
    /// Reports the channel's connect to this observer; call it from the channel initializer, before the connect.
    func observe(_ channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(Reporter(observer: self, attempt: self.connecting()))
    }

    /// Reports the connection once it is active, or its failure if it never becomes active.
    private final class Reporter: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny

        private let observer: SourcePortObserver
        private let attempt: UInt64
        private var reported = false

        init(observer: SourcePortObserver, attempt: UInt64) {
            self.observer = observer
            self.attempt = attempt
        }

        func channelActive(context: ChannelHandlerContext) {
            self.reported = true
            if let port = context.channel.localAddress?.port, port != 0,
                let toPort = context.channel.remoteAddress?.port
            {
                self.observer.connected(self.attempt, port, toPort)
                let closed = self.observer.closed
                context.channel.closeFuture.whenComplete { _ in closed(port, toPort) }
            } else {
                self.observer.failed(self.attempt)
            }
            context.fireChannelActive()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            guard !self.reported else { return }
            self.reported = true
            self.observer.failed(self.attempt)
        }
    }
}
