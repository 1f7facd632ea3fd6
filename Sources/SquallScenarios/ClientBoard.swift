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
        self.states.withLock { states in
            let current = states[event.clientId] ?? .connecting
            guard current != .done else { return }
            switch event.kind {
            case .connected, .recovered: states[event.clientId] = .websocket
            case .closed, .reconnectAttempt, .connectFailed:
                if current != .polling { states[event.clientId] = .reconnecting }
            case .fallback: states[event.clientId] = .polling
            case .finished, .stopped: states[event.clientId] = .done
            case .connectAttempt, .poll, .stateSync, .delivered, .duplicateDropped, .suspended, .resumed: break
            }
        }
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
