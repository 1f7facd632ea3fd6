import SquallReferenceClient
import Synchronization

/// Where each client is now (its ``ClientPhase``, followed from its events as the report's lanes follow them), for
/// the progress line and for ending the run once every client is done.
final class ClientBoard: Sendable {
    /// Every client's state, how many are not done yet, and who waits in ``allDone()``; one lock, so the count
    /// and the waiters cannot disagree.
    private struct Board {
        var states: [String: ClientPhaseTracker]
        var remaining: Int
        var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0

        /// Moves a client on, keeping `remaining`; returns the waiters to wake when the last one became done.
        mutating func follow(
            _ id: String,
            _ change: (inout ClientPhaseTracker) -> Void
        ) -> [CheckedContinuation<Void, Never>] {
            let wasDone = self.states[id]?.phase == .done
            change(&self.states[id, default: ClientPhaseTracker()])
            guard !wasDone, self.states[id]?.phase == .done else { return [] }
            self.remaining -= 1
            guard self.remaining == 0 else { return [] }
            defer { self.waiting = [:] }
            return Array(self.waiting.values)
        }
    }

    private let board: Mutex<Board>

    init(_ ids: [String]) {
        let states = Dictionary(uniqueKeysWithValues: ids.map { ($0, ClientPhaseTracker()) })
        self.board = Mutex(Board(states: states, remaining: states.count))
    }

    func started(_ id: String) {
        self.wake(self.board.withLock { $0.follow(id) { $0.started() } })
    }

    func update(_ event: ClientEvent) {
        self.wake(self.board.withLock { $0.follow(event.clientId) { $0.apply(event.kind) } })
    }

    /// Moves a client on by the name of its event (the NDJSON contract's), as external clients report them; a
    /// `connected` link is over `via` (an external client's `"via": "sse"`).
    func update(client: String, event: ClientEventName, via: HybridClientStateMachine.Transport = .websocket) {
        self.wake(self.board.withLock { $0.follow(client) { $0.apply(event, via: via) } })
    }

    /// Marks a client done without an event (its process exited, or it never started).
    func finished(_ id: String) {
        self.wake(self.board.withLock { $0.follow(id) { $0.finish() } })
    }

    /// Whether a client reported the end of its job (or was marked done).
    func isDone(_ id: String) -> Bool {
        self.board.withLock { $0.states[id]?.phase == .done }
    }

    /// Returns once every client is done (or the calling task is cancelled): the run's end, driven by the
    /// clients' own events rather than by polling.
    func allDone() async {
        let id = self.board.withLock { board in
            defer { board.nextWaiter += 1 }
            return board.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.board.withLock { board in
                    if board.remaining == 0 || Task.isCancelled { return true }
                    board.waiting[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.board.withLock { $0.waiting.removeValue(forKey: id) }?.resume()
        }
    }

    private func wake(_ continuations: [CheckedContinuation<Void, Never>]) {
        for continuation in continuations { continuation.resume() }
    }

    func snapshot(elapsed: Duration, total: Duration, faults: [String]) -> RunProgress {
        self.board.withLock { board in
            // A suspended client counts where it was frozen.
            var counts: [ClientPhase: Int] = [:]
            for tracker in board.states.values { counts[tracker.underlying, default: 0] += 1 }
            return RunProgress(
                elapsed: elapsed,
                total: total,
                pending: counts[.waiting] ?? 0,
                websocket: counts[.websocket] ?? 0,
                eventStream: counts[.eventStream] ?? 0,
                reconnecting: counts[.connecting] ?? 0,
                polling: counts[.polling] ?? 0,
                done: counts[.done] ?? 0,
                activeFaults: faults
            )
        }
    }
}
