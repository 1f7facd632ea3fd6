/// A server's lifecycle as a value: `initial → running → shuttingDown → shutdown` (Hummingbird's states), one
/// `mutating func` per event returning what to do, so every path — a second `run()`, a shutdown before `run()`, a
/// shutdown requested twice — is decided in one place and tested without sockets.
package struct ServerLifecycleStateMachine: Sendable {
    private enum State: Sendable {
        case initial
        case running
        case shuttingDown
        case shutdown
    }

    private var state = State.initial

    /// A server that has not run yet.
    package init() {}

    /// What `run()` should do.
    package enum RunAction: Sendable, Equatable {
        /// Serve until shut down.
        case serve
        /// Return at once: the server already ran, or was shut down before it started.
        case returnAtOnce
    }

    /// What a shutdown request should do.
    package enum ShutdownAction: Sendable, Equatable {
        /// Stop accepting, end the streams, give open connections the drain deadline, then close what is left.
        case drainThenClose
        /// Close the listener only: the server never ran, so nothing is open.
        case closeListener
        /// Nothing: a shutdown is already under way or done.
        case none
    }

    /// `run()` was called.
    package mutating func run() -> RunAction {
        switch self.state {
        case .initial:
            self.state = .running
            return .serve
        case .running, .shuttingDown, .shutdown:
            return .returnAtOnce
        }
    }

    /// A shutdown was requested (`close()`, or the task running `run()` was cancelled).
    package mutating func shutDown() -> ShutdownAction {
        switch self.state {
        case .initial:
            self.state = .shutdown
            return .closeListener
        case .running:
            self.state = .shuttingDown
            return .drainThenClose
        case .shuttingDown, .shutdown:
            return .none
        }
    }

    /// The drain ended and every connection is closed.
    package mutating func drained() {
        switch self.state {
        case .shuttingDown:
            self.state = .shutdown
        case .initial, .running, .shutdown:
            break
        }
    }

    /// Whether the server is serving (not yet asked to stop).
    package var isRunning: Bool {
        switch self.state {
        case .running: true
        case .initial, .shuttingDown, .shutdown: false
        }
    }

    /// Whether the shutdown has finished.
    package var isShutDown: Bool {
        switch self.state {
        case .shutdown: true
        case .initial, .running, .shuttingDown: false
        }
    }
}
