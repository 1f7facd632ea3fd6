import SquallReferenceClient
import Synchronization

/// Where each client is now (waiting, WebSocket, reconnecting, polling, done), kept from its events for the
/// progress line and for ending the run once every client is done.
final class ClientBoard: Sendable {
    private enum State {
        case waiting, connecting, websocket, reconnecting, polling, done
    }

    /// Every client's state, how many are not done yet, and who waits in ``allDone()``; one lock, so the count
    /// and the waiters cannot disagree.
    private struct Board {
        var states: [String: State]
        var remaining: Int
        var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0

        /// Sets a client's state, keeping `remaining`; returns the waiters to wake when the last one became done.
        mutating func set(_ id: String, to state: State) -> [CheckedContinuation<Void, Never>] {
            let previous = self.states.updateValue(state, forKey: id)
            guard state == .done, let previous, previous != .done else { return [] }
            self.remaining -= 1
            guard self.remaining == 0 else { return [] }
            defer { self.waiting = [:] }
            return Array(self.waiting.values)
        }
    }

    private let board: Mutex<Board>

    init(_ ids: [String]) {
        let states = Dictionary(uniqueKeysWithValues: ids.map { ($0, State.waiting) })
        self.board = Mutex(Board(states: states, remaining: states.count))
    }

    func started(_ id: String) {
        self.wake(self.board.withLock { $0.set(id, to: .connecting) })
    }

    func update(_ event: ClientEvent) {
        self.update(client: event.clientId, event: event.eventName)
    }

    /// Moves a client on by the name of its event (the NDJSON contract's), as external clients report them.
    func update(client: String, event: ClientEventName) {
        let woken = self.board.withLock { board -> [CheckedContinuation<Void, Never>] in
            let current = board.states[client] ?? .connecting
            guard current != .done else { return [] }
            switch event {
            case .connected, .recovered: return board.set(client, to: .websocket)
            case .closed, .reconnectAttempt, .connectFailed:
                return current == .polling ? [] : board.set(client, to: .reconnecting)
            case .fallback: return board.set(client, to: .polling)
            case .finished, .stopped: return board.set(client, to: .done)
            case .connectAttempt, .poll, .stateSync, .delivered, .duplicateDropped, .suspended, .resumed: return []
            }
        }
        self.wake(woken)
    }

    /// Marks a client done without an event (its process exited, or it never started).
    func finished(_ id: String) {
        self.wake(self.board.withLock { $0.set(id, to: .done) })
    }

    /// Whether a client reported the end of its job (or was marked done).
    func isDone(_ id: String) -> Bool {
        self.board.withLock { $0.states[id] == .done }
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
            let values = Array(board.states.values)
            return RunProgress(
                elapsed: elapsed,
                total: total,
                pending: values.filter { $0 == .waiting }.count,
                websocket: values.filter { $0 == .websocket }.count,
                reconnecting: values.filter { $0 == .reconnecting || $0 == .connecting }.count,
                polling: values.filter { $0 == .polling }.count,
                done: values.filter { $0 == .done }.count,
                activeFaults: faults
            )
        }
    }
}
