import SquallReferenceProtocol

/// The hybrid client's decisions as a value: feed it what happened, it returns what to do.
///
/// WebSocket first; on a loss, reconnect with exponential backoff and jitter, resuming from the last delivered
/// `seq` (with a state sync to fill gaps); when the tries are spent, fall back to polling the job-state endpoint;
/// while polling, probe WebSocket and return to it; a WebSocket silent past the heartbeat timeout is treated as dead.
/// Every message reaches the app once, in `seq` order (unless a deliberately broken strategy says otherwise).
///
/// The runtime (sockets, timers) performs the actions; this type has no I/O, so every transition is tested
/// without sockets.
public struct HybridClientStateMachine: Sendable {
    /// How a message reached the client.
    public enum Transport: String, Sendable, Hashable {
        /// Pushed over the WebSocket.
        case websocket
        /// Fetched from the job-state endpoint (polling or state sync).
        case polling
    }

    /// How the job ended for the client.
    public enum Outcome: String, Sendable, Hashable {
        /// The `complete` message was delivered.
        case completed
        /// The `error` message was delivered.
        case failed
    }

    /// Something that happened.
    public enum Event: Sendable, Hashable {
        /// Begin.
        case start
        /// The WebSocket upgrade succeeded.
        case webSocketOpened
        /// The WebSocket could not be opened (refused, upgrade rejected, timed out).
        case webSocketFailed(reason: String)
        /// An open WebSocket closed (close frame, EOF or reset).
        case webSocketClosed(code: Int?, reason: String)
        /// A progress message arrived on the WebSocket.
        case received(ProgressMessage)
        /// A ping, pong or `ready_ack` arrived: the line is alive.
        case heartbeat
        /// Nothing arrived for the heartbeat timeout.
        case heartbeatExpired
        /// The reconnect wait is over.
        case reconnectTimerFired
        /// Time to poll.
        case pollTimerFired
        /// A poll answered.
        case pollAnswered(JobState)
        /// A poll failed (status or transport error).
        case pollFailed(reason: String)
        /// Time to try WebSocket again while polling.
        case probeTimerFired
        /// The state sync after a reconnect answered.
        case stateSyncAnswered(JobState)
        /// The state sync failed.
        case stateSyncFailed(reason: String)
    }

    /// Something the runtime must do (or report).
    public enum Action: Sendable, Hashable {
        /// Open a WebSocket; `attempt` 0 is the first try or a probe, then 1, 2, … for reconnects.
        case connectWebSocket(attempt: Int, probe: Bool)
        /// Send `{"type": "ready", "lastSeq": N}`.
        case sendReady(lastSeq: Int)
        /// Close the WebSocket.
        case closeWebSocket
        /// Wait, then fire `reconnectTimerFired`.
        case scheduleReconnect(attempt: Int, after: Duration)
        /// (Re)start the heartbeat timer.
        case armHeartbeat(Duration)
        /// The client gives up on WebSocket for now (reported as a fallback).
        case fallBackToPolling(reason: String)
        /// Fetch the job state since `since` now.
        case poll(since: Int)
        /// Wait, then fire `pollTimerFired`.
        case schedulePoll(after: Duration)
        /// Wait, then fire `probeTimerFired`.
        case scheduleProbe(after: Duration)
        /// A probe succeeded: back on WebSocket (polling stops).
        case recoveredToWebSocket
        /// Fetch the job state since `since` to fill a gap after a reconnect.
        case fetchState(since: Int, attempt: Int)
        /// Hand a message to the app.
        case deliver(ProgressMessage, via: Transport)
        /// A message already delivered arrived again and was dropped.
        case dropDuplicate(seq: Int)
        /// The job is over for this client.
        case finish(Outcome)
    }

    private enum State: Sendable, Hashable {
        case idle
        case connecting(attempt: Int)
        case open
        case backingOff(attempt: Int)
        case polling(probing: Bool)
        case finished
    }

    /// The strategy in force.
    public let strategy: ClientStrategy
    private var state = State.idle
    private var random: ClientRandom
    /// The newest `seq` delivered to the app.
    public private(set) var lastSeq = 0
    private var syncInFlight = false

    /// Creates a machine.
    ///
    /// - Parameters:
    ///   - strategy: the behaviour.
    ///   - seed: seeds the backoff jitter.
    public init(strategy: ClientStrategy, seed: UInt64) {
        self.strategy = strategy
        self.random = ClientRandom(seed: seed)
    }

    /// Whether the job is over for this client.
    public var isFinished: Bool {
        self.state == .finished
    }

    /// Whether the client is on polling now.
    public var isPolling: Bool {
        if case .polling = self.state { return true }
        return false
    }

    /// Handles one event.
    ///
    /// - Returns: what to do, in order.
    public mutating func handle(_ event: Event) -> [Action] {
        switch (self.state, event) {
        case (.finished, _):
            return []

        case (.idle, .start):
            self.state = .connecting(attempt: 0)
            return [.connectWebSocket(attempt: 0, probe: false)]
        case (.idle, _):
            return []

        case (.connecting(let attempt), .webSocketOpened):
            self.state = .open
            var actions: [Action] = [.sendReady(lastSeq: self.strategy.resume ? self.lastSeq : 0)]
            actions += self.heartbeatActions()
            if attempt > 0 && self.strategy.stateSync {
                actions.append(self.startStateSync())
            }
            return actions
        case (.polling(probing: true), .webSocketOpened):
            self.state = .open
            return [.recoveredToWebSocket, .sendReady(lastSeq: self.strategy.resume ? self.lastSeq : 0)]
                + self.heartbeatActions()
        case (_, .webSocketOpened):
            return [.closeWebSocket]

        case (.connecting(let attempt), .webSocketFailed(let reason)),
            (.connecting(let attempt), .webSocketClosed(_, let reason)):
            return self.lost(after: attempt, reason: reason)
        case (.open, .webSocketFailed(let reason)), (.open, .webSocketClosed(_, let reason)):
            return self.lost(after: 0, reason: reason)
        case (.open, .heartbeatExpired):
            return [.closeWebSocket] + self.lost(after: 0, reason: "heartbeat timeout")
        case (.polling(probing: true), .webSocketFailed), (.polling(probing: true), .webSocketClosed):
            self.state = .polling(probing: false)
            return self.probeActions()

        case (.backingOff(let attempt), .reconnectTimerFired):
            self.state = .connecting(attempt: attempt)
            return [.connectWebSocket(attempt: attempt, probe: false)]

        case (.open, .received(let message)):
            if message.seq > self.lastSeq + 1 && self.strategy.stateSync {
                // A gap: fetch what is missing instead of delivering out of order.
                guard !self.syncInFlight else { return self.heartbeatActions() }
                return self.heartbeatActions() + [self.startStateSync()]
            }
            return self.heartbeatActions() + self.deliver([message], via: .websocket)
        case (.open, .heartbeat):
            return self.heartbeatActions()

        case (.open, .stateSyncAnswered(let jobState)), (.polling, .stateSyncAnswered(let jobState)):
            self.syncInFlight = false
            return self.deliver(jobState.messages, via: .polling)
        case (_, .stateSyncFailed):
            guard self.syncInFlight else { return [] }
            self.syncAttempt += 1
            guard self.syncAttempt <= self.strategy.stateSyncAttempts else {
                self.syncInFlight = false
                return []
            }
            return [.fetchState(since: self.lastSeq, attempt: self.syncAttempt)]

        case (.polling, .pollTimerFired):
            return [.poll(since: self.lastSeq)]
        case (.polling, .pollAnswered(let jobState)):
            let actions = self.deliver(jobState.messages, via: .polling)
            if self.state == .finished { return actions }
            return actions + [.schedulePoll(after: self.strategy.scaled(self.strategy.pollInterval))]
        case (.polling, .pollFailed):
            return [.schedulePoll(after: self.strategy.scaled(self.strategy.pollInterval))]
        case (.polling(probing: false), .probeTimerFired):
            self.state = .polling(probing: true)
            return [.connectWebSocket(attempt: 0, probe: true)]

        case (.polling(probing: true), .received(let message)):
            return self.deliver([message], via: .websocket)

        default:
            // A timer or answer that no longer matters in this state (e.g. a poll timer after recovering).
            return []
        }
    }

    private var syncAttempt = 0

    private mutating func startStateSync() -> Action {
        self.syncInFlight = true
        self.syncAttempt = 1
        return .fetchState(since: self.lastSeq, attempt: 1)
    }

    private mutating func lost(after attempt: Int, reason: String) -> [Action] {
        let next = attempt + 1
        if next <= self.strategy.reconnectAttempts {
            self.state = .backingOff(attempt: next)
            return [.scheduleReconnect(attempt: next, after: self.jitteredBackoff(attempt: next))]
        }
        self.state = .polling(probing: false)
        return [.fallBackToPolling(reason: reason), .poll(since: self.lastSeq)] + self.probeActions()
    }

    private func probeActions() -> [Action] {
        guard let interval = self.strategy.probeInterval else { return [] }
        return [.scheduleProbe(after: self.strategy.scaled(interval))]
    }

    private func heartbeatActions() -> [Action] {
        guard let timeout = self.strategy.heartbeatTimeout else { return [] }
        return [.armHeartbeat(self.strategy.scaled(timeout))]
    }

    private mutating func jitteredBackoff(attempt: Int) -> Duration {
        let base = self.strategy.scaled(self.strategy.backoff(attempt: attempt))
        let jitter = self.strategy.backoffJitter
        guard jitter > 0 else { return base }
        return base * (1 + Double.random(in: -jitter...jitter, using: &self.random))
    }

    private mutating func deliver(_ messages: [ProgressMessage], via transport: Transport) -> [Action] {
        var actions: [Action] = []
        for message in messages {
            if message.seq <= self.lastSeq && self.strategy.deduplicate {
                actions.append(.dropDuplicate(seq: message.seq))
                continue
            }
            actions.append(.deliver(message, via: transport))
            self.lastSeq = max(self.lastSeq, message.seq)
            if message.isFinal {
                let wasOpen = self.state == .open || self.state == .polling(probing: true)
                self.state = .finished
                if wasOpen { actions.append(.closeWebSocket) }
                actions.append(.finish(message.type == .complete ? .completed : .failed))
                break
            }
        }
        return actions
    }
}
