import NIOCore
import NIOPosix

/// Told the local port of every connection the client opens — before the connect, so the far end can look it up the
/// moment it accepts — and told again when the connection closes.
///
/// A test harness uses it to learn which client a connection through its proxy belongs to (Squall's scenarios key
/// fault targeting on it); the app's own logic never needs it. Ports are observed only toward an IPv4 address
/// literal such as `127.0.0.1`: the socket is bound to port 0 of that family before connecting.
public struct SourcePortObserver: Sendable {
    /// Called on the connection's event loop with its local port, before the connect.
    public var opening: @Sendable (_ port: Int) -> Void
    /// Called once the connection has closed.
    public var closed: @Sendable (_ port: Int) -> Void

    /// Creates an observer.
    public init(opening: @escaping @Sendable (_ port: Int) -> Void, closed: @escaping @Sendable (_ port: Int) -> Void) {
        self.opening = opening
        self.closed = closed
    }
}

extension ClientBootstrap {
    /// Binds the socket to a free local port (on 127.0.0.1 toward loopback) before connecting when `observer` is set
    /// and `host` is an IPv4 literal, so ``SourcePortObserver/report(_:)`` knows the port in the channel initializer.
    func bindingSourcePort(toward host: String, for observer: SourcePortObserver?) -> ClientBootstrap {
        // Toward loopback the socket stays on loopback; toward another IPv4 address the kernel picks the interface.
        let localHost = host.hasPrefix("127.") ? "127.0.0.1" : "0.0.0.0"
        guard observer != nil, let local = try? SocketAddress(ipAddress: localHost, port: 0),
            (try? SocketAddress(ipAddress: host, port: 0))?.protocol == .inet
        else { return self }
        // SO_REUSEADDR: a port still in TIME_WAIT from an earlier connection may be bound again.
        return self.channelOption(.socketOption(.so_reuseaddr), value: 1).bind(to: local)
    }
}

extension SourcePortObserver {
    /// Reports the channel's local port now and when it closes; call it from the channel initializer.
    func report(_ channel: any Channel) {
        guard let port = channel.localAddress?.port, port != 0 else { return }
        self.opening(port)
        let closed = self.closed
        channel.closeFuture.whenComplete { _ in closed(port) }
    }
}
