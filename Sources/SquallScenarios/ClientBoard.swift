import SquallReferenceClient
import Synchronization

/// Where each client is now (waiting, WebSocket, reconnecting, polling, done), kept from its events for the
/// progress line and for ending the run once every client is done.
final class ClientBoard: Sendable {
    private enum State {
        case waiting, connecting, websocket, reconnecting, polling, done
    }

    private let states: Mutex<[String: State]>

    init(_ ids: [String]) {
        self.states = Mutex(Dictionary(uniqueKeysWithValues: ids.map { ($0, State.waiting) }))
    }

    func started(_ id: String) {
        self.states.withLock { $0[id] = .connecting }
    }

    func update(_ event: ClientEvent) {
        self.update(client: event.clientId, event: event.eventName)
    }

    /// Moves a client on by the name of its event (the NDJSON contract's), as external clients report them.
    func update(client: String, event: ClientEventName) {
        self.states.withLock { states in
            let current = states[client] ?? .connecting
            guard current != .done else { return }
            switch event {
            case .connected, .recovered: states[client] = .websocket
            case .closed, .reconnectAttempt, .connectFailed:
                if current != .polling { states[client] = .reconnecting }
            case .fallback: states[client] = .polling
            case .finished, .stopped: states[client] = .done
            case .connectAttempt, .poll, .stateSync, .delivered, .duplicateDropped, .suspended, .resumed: break
            }
        }
    }

    /// Marks a client done without an event (its process exited, or it never started).
    func finished(_ id: String) {
        self.states.withLock { $0[id] = .done }
    }

    /// Whether a client reported the end of its job (or was marked done).
    func isDone(_ id: String) -> Bool {
        self.states.withLock { $0[id] == .done }
    }

    var allDone: Bool {
        self.states.withLock { $0.values.allSatisfy { $0 == .done } }
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
