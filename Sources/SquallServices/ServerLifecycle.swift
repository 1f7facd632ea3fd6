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

    /// Runs `perform` with the machine's shutdown action for the first request only; every call returns once that
    /// shutdown is over.
    package func shutDown(
        _ perform: @escaping @Sendable (ServerLifecycleStateMachine.ShutdownAction) async -> Void
    ) async {
        let task = self.shutdown.withLock { shutdown -> Task<Void, Never> in
            if let existing = shutdown { return existing }
            let action = self.machine.withLock { $0.shutDown() }
            let task = Task { await perform(action) }
            shutdown = task
            return task
        }
        await task.value
    }

    /// The drain ended and every connection is closed.
    package func drained() {
        self.machine.withLock { $0.drained() }
    }
}
