import NIOCore
import SquallFaults
import Synchronization

/// Which client owns which connection, as the clients report their local ports, so a proxy knows the
/// ``ConnectionOrigin`` of a connection it accepts.
///
/// A scenario run shares one registry between its reference clients (through their `SourcePortObserver`) and its
/// proxies. A client announces each connect before it starts (``announce(client:)``), which fixes the connection's
/// origin, and reports the local port once connected (``connected(serial:port:toPort:)``) — or that the connect failed
/// (``abandon(serial:)``). The port is forgotten when the connection closes. A port that no client reports (an external
/// client, a probe) has no origin, and its connection is keyed by serial number.
///
/// Clients do not bind a port before connecting: binding to port 0 makes the kernel search the ephemeral range for a
/// port no socket holds, which with thousands of clients and their `TIME_WAIT` sockets once took 28 % of a reconnect
/// storm's CPU. The kernel picks the port at connect instead, so the proxy may accept a connection a moment before
/// its client reports the port; ``origin(ofPort:toPort:on:)`` then waits for the connects announced before the
/// accept. A port picked at connect is unique only toward one destination (two clients may connect from the same
/// port to two proxies), so a connection is known by its client's port and the port it connected to.
public final class ConnectionOriginRegistry: Sendable {
    /// A connect announced by a client and not yet reported connected or abandoned.
    public struct Announcement: Sendable, Hashable {
        /// The announcement's serial number.
        public let serial: UInt64
        /// The connection's origin, fixed when it was announced.
        public let origin: ConnectionOrigin
    }

    /// A connection's two ports on loopback: the client's and the one it connected to (the proxy's listener).
    private struct Ports: Hashable {
        var client: Int
        var proxy: Int
    }

    private struct Waiter {
        var id: UInt64
        var ports: Ports
        /// Every connect announced up to this serial must report before the port can be called nobody's.
        var horizon: UInt64
        var promise: EventLoopPromise<ConnectionOrigin?>
    }

    /// A waiting lookup's promise and its answer.
    private typealias Resolution = (EventLoopPromise<ConnectionOrigin?>, ConnectionOrigin?)

    private struct State {
        var byPorts: [Ports: ConnectionOrigin] = [:]
        var connectionsByClient: [String: Int] = [:]
        var pending: [UInt64: ConnectionOrigin] = [:]
        var nextSerial: UInt64 = 1
        /// No connect announced before this serial is pending (advanced lazily: serials only grow).
        var oldestCandidate: UInt64 = 1
        var waiters: [Waiter] = []
        var nextWaiter: UInt64 = 1

        /// Removes and returns the waiters a change resolved, with their answers.
        mutating func resolvedWaiters() -> [Resolution] {
            guard !self.waiters.isEmpty else { return [] }
            while self.oldestCandidate < self.nextSerial, self.pending[self.oldestCandidate] == nil {
                self.oldestCandidate += 1
            }
            let oldestPending = self.oldestCandidate < self.nextSerial ? self.oldestCandidate : .max
            var resolved: [Resolution] = []
            self.waiters.removeAll { waiter in
                if let origin = self.byPorts[waiter.ports] {
                    resolved.append((waiter.promise, origin))
                    return true
                }
                guard oldestPending > waiter.horizon else { return false }
                resolved.append((waiter.promise, nil))
                return true
            }
            return resolved
        }
    }

    /// How long a lookup waits at most for the connects announced before it (a safety net: on loopback they report
    /// within a loop tick).
    public static let lookupPatience = TimeAmount.seconds(1)

    private let state = Mutex(State())

    /// Creates an empty registry.
    public init() {}

    /// Announces that `client` is about to connect; returns the connection's origin (its ordinal counts the client's
    /// connections in announcement order) under a serial number to report with.
    public func announce(client: String) -> Announcement {
        self.state.withLock { state in
            let ordinal = (state.connectionsByClient[client] ?? 0) + 1
            state.connectionsByClient[client] = ordinal
            let announcement = Announcement(
                serial: state.nextSerial,
                origin: ConnectionOrigin(client: client, ordinal: ordinal)
            )
            state.nextSerial += 1
            state.pending[announcement.serial] = announcement.origin
            return announcement
        }
    }

    /// Reports that the connect announced under `serial` is established from local port `port` to port `toPort`.
    public func connected(serial: UInt64, port: Int, toPort: Int) {
        let resolved = self.state.withLock { state -> [Resolution] in
            guard let origin = state.pending.removeValue(forKey: serial) else { return [] }
            state.byPorts[Ports(client: port, proxy: toPort)] = origin
            return state.resolvedWaiters()
        }
        for (promise, origin) in resolved { promise.succeed(origin) }
    }

    /// Reports that the connect announced under `serial` failed.
    public func abandon(serial: UInt64) {
        let resolved = self.state.withLock { state -> [Resolution] in
            guard state.pending.removeValue(forKey: serial) != nil else { return [] }
            return state.resolvedWaiters()
        }
        for (promise, origin) in resolved { promise.succeed(origin) }
    }

    /// Records that `client` connects from local port `port` to port `toPort`, for a client that knows its port
    /// before it connects; returns the connection's origin.
    @discardableResult
    public func register(port: Int, toPort: Int, client: String) -> ConnectionOrigin {
        let announcement = self.announce(client: client)
        self.connected(serial: announcement.serial, port: port, toPort: toPort)
        return announcement.origin
    }

    /// Forgets `client`'s connection from `port` to `toPort` (it closed). An entry another client registered for
    /// the ports since (the kernel may hand a freed port out at once) is kept.
    public func unregister(port: Int, toPort: Int, client: String) {
        let ports = Ports(client: port, proxy: toPort)
        self.state.withLock { state in
            if state.byPorts[ports]?.client == client {
                state.byPorts.removeValue(forKey: ports)
            }
        }
    }

    /// The origin of a connection from local port `port` to port `toPort`, if a client has reported it.
    public func origin(ofPort port: Int, toPort: Int) -> ConnectionOrigin? {
        self.state.withLock { $0.byPorts[Ports(client: port, proxy: toPort)] }
    }

    /// The origin of a connection just accepted from local port `port` on port `toPort`: at once when its client
    /// has reported it or no connect is outstanding, else once the connects announced before now have reported (nil
    /// when none of them was this connection), or after ``lookupPatience``.
    public func origin(ofPort port: Int, toPort: Int, on eventLoop: any EventLoop) -> EventLoopFuture<ConnectionOrigin?>
    {
        let ports = Ports(client: port, proxy: toPort)
        let promise = eventLoop.makePromise(of: ConnectionOrigin?.self)
        let lookup = self.state.withLock { state -> Lookup in
            if let origin = state.byPorts[ports] { return .answered(origin) }
            guard !state.pending.isEmpty else { return .answered(nil) }
            let id = state.nextWaiter
            state.nextWaiter += 1
            state.waiters.append(Waiter(id: id, ports: ports, horizon: state.nextSerial - 1, promise: promise))
            return .waiting(id: id)
        }
        switch lookup {
        case .answered(let origin):
            promise.succeed(origin)
        case .waiting(let id):
            // Not cancelled when answered: cancelling a NIO timer scans every pending timer of the loop.
            eventLoop.scheduleTask(in: Self.lookupPatience) { [self] in
                let expired = self.state.withLock { state in
                    state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
                }
                expired?.promise.succeed(nil)
            }
        }
        return promise.futureResult
    }

    private enum Lookup {
        case answered(ConnectionOrigin?)
        case waiting(id: UInt64)
    }
}
