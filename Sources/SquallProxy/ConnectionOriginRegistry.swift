import SquallFaults
import Synchronization

/// Which client owns which local port, as the clients report them before connecting, so a proxy knows the
/// ``ConnectionOrigin`` of a connection the moment it accepts it.
///
/// A scenario run shares one registry between its reference clients (through their `SourcePortObserver`) and its
/// proxies. A port is registered before the client's connect and removed when the connection closes; a port that
/// is not registered (an external client, a probe) has no origin, and its connection is keyed by serial number.
public final class ConnectionOriginRegistry: Sendable {
    private struct State {
        var byPort: [Int: ConnectionOrigin] = [:]
        var connectionsByClient: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// Creates an empty registry.
    public init() {}

    /// Records that `client` is about to connect from local port `port`; returns the connection's origin (its
    /// ordinal counts the client's connections).
    @discardableResult
    public func register(port: Int, client: String) -> ConnectionOrigin {
        self.state.withLock { state in
            let ordinal = (state.connectionsByClient[client] ?? 0) + 1
            state.connectionsByClient[client] = ordinal
            let origin = ConnectionOrigin(client: client, ordinal: ordinal)
            state.byPort[port] = origin
            return origin
        }
    }

    /// Forgets `client`'s connection from `port` (it closed). An entry another client registered for the port
    /// since (the kernel may hand a freed port out at once) is kept.
    public func unregister(port: Int, client: String) {
        self.state.withLock { state in
            if state.byPort[port]?.client == client {
                state.byPort.removeValue(forKey: port)
            }
        }
    }

    /// The origin of a connection from local port `port`, if a client registered it.
    public func origin(ofPort port: Int) -> ConnectionOrigin? {
        self.state.withLock { $0.byPort[port] }
    }
}
