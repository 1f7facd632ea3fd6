import SquallReferenceClient
import Synchronization

/// Where each client is now (waiting, WebSocket, reconnecting, polling, done), kept from its events for the
/// progress line and for ending the run once every client is done.
final class ClientBoard: Sendable {
    private enum State {
        case waiting, connecting, websocket, reconnecting, polling, done
    }

    private let states: Mutex<[String: State]>
    /// Who waits in ``allDone()``, and whether every client is done (then nobody waits again).
    private let waiters = Mutex<(done: Bool, waiting: [Int: CheckedContinuation<Void, Never>], next: Int)>(
        (false, [:], 0)
    )

    init(_ ids: [String]) {
        self.states = Mutex(Dictionary(uniqueKeysWithValues: ids.map { ($0, State.waiting) }))
        if ids.isEmpty { self.waiters.withLock { $0.done = true } }
    }

    func started(_ id: String) {
        self.states.withLock { $0[id] = .connecting }
    }

    func update(_ event: ClientEvent) {
        self.update(client: event.clientId, event: event.eventName)
    }

    /// Moves a client on by the name of its event (the NDJSON contract's), as external clients report them.
    func update(client: String, event: ClientEventName) {
        let nowDone = self.states.withLock { states -> Bool in
            let current = states[client] ?? .connecting
            guard current != .done else { return false }
            switch event {
            case .connected, .recovered: states[client] = .websocket
            case .closed, .reconnectAttempt, .connectFailed:
                if current != .polling { states[client] = .reconnecting }
            case .fallback: states[client] = .polling
            case .finished, .stopped: states[client] = .done
            case .connectAttempt, .poll, .stateSync, .delivered, .duplicateDropped, .suspended, .resumed: break
            }
            return states[client] == .done
        }
        if nowDone { self.checkAllDone() }
    }

    /// Marks a client done without an event (its process exited, or it never started).
    func finished(_ id: String) {
        self.states.withLock { $0[id] = .done }
        self.checkAllDone()
    }

    /// Whether a client reported the end of its job (or was marked done).
    func isDone(_ id: String) -> Bool {
        self.states.withLock { $0[id] == .done }
    }

    var isAllDone: Bool {
        self.states.withLock { $0.values.allSatisfy { $0 == .done } }
    }

    /// Returns once every client is done (or the calling task is cancelled): the run's end, driven by the
    /// clients' own events rather than by polling.
    func allDone() async {
        let id = self.waiters.withLock { waiters in
            defer { waiters.next += 1 }
            return waiters.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.waiters.withLock { waiters in
                    if waiters.done || Task.isCancelled { return true }
                    waiters.waiting[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.waiters.withLock { $0.waiting.removeValue(forKey: id) }?.resume()
        }
    }

    /// Wakes the waiters once every client is done.
    private func checkAllDone() {
        guard self.isAllDone else { return }
        let waiting = self.waiters.withLock { waiters in
            waiters.done = true
            defer { waiters.waiting = [:] }
            return Array(waiters.waiting.values)
        }
        for continuation in waiting { continuation.resume() }
    }

    func snapshot(elapsed: Duration, total: Duration, faults: [String]) -> RunProgress {
        self.states.withLock { states in
            let values = Array(states.values)
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
