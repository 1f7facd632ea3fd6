import NIOCore
import Synchronization

/// A server's lifecycle as it runs: the ``ServerLifecycleStateMachine`` behind a lock, and the one shutdown every
/// `close()` call joins.
package final class ServerLifecycle: Sendable {
    private let machine = Mutex(ServerLifecycleStateMachine())
    private let shutdown = Mutex<Task<Void, Never>?>(nil)

    /// A server that has not run yet.
    package init() {}

    /// `run()` was called: whether to serve.
    package func run() -> ServerLifecycleStateMachine.RunAction {
        self.machine.withLock { $0.run() }
    }

    /// Shuts the server down once, however many callers ask; each returns once it is over. The first request
    /// decides how: a server that ran stops accepting, `stopping` ends its own work (streams, jobs), connections
    /// with nothing in progress (`isIdle`) are closed at once and the others get `drainDeadline`; a server that
    /// never ran only closes its listener and whatever was accepted.
    ///
    /// - Parameters:
    ///   - listener: the listening channel.
    ///   - connections: every accepted connection.
    ///   - drainDeadline: how long connections in progress may take to close by themselves.
    ///   - isIdle: whether a connection has nothing in progress.
    ///   - stopping: the server's own work to end once it stops accepting.
    package func shutDown(
        listener: any Channel,
        connections: ConnectionRegistry,
        drainDeadline: Duration,
        isIdle: @escaping @Sendable (any Channel) -> Bool = { _ in false },
        stopping: @escaping @Sendable () -> Void = {}
    ) async {
        let task = self.shutdown.withLock { shutdown -> Task<Void, Never> in
            if let existing = shutdown { return existing }
            let action = self.machine.withLock { $0.shutDown() }
            let task = Task {
                switch action {
                case .none:
                    return
                case .closeListener:
                    try? await listener.close()
                    stopping()
                    connections.closeAll()
                case .drainThenClose:
                    try? await listener.close()
                    stopping()
                    await connections.drain(deadline: drainDeadline, isIdle: isIdle)
                    self.machine.withLock { $0.drained() }
                }
            }
            shutdown = task
            return task
        }
        await task.value
    }
}
