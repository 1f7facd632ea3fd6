import SquallReferenceProtocol

/// The hybrid client's decisions as a value: feed it what happened, it returns what to do.
///
/// It climbs down the strategy's ladder of transports (WebSocket, then Server-Sent Events, then polling, unless the
/// strategy says otherwise): on a loss, reconnect on the same rung with exponential backoff and jitter, resuming
/// from the last delivered `seq` (with a state sync to fill gaps); when the tries are spent, step down to the next
/// rung (its tries start over), the last being polling the job-state endpoint; while polling, probe the first rung
/// and return to it; a link silent past the heartbeat timeout is treated as dead (so is an event stream a proxy
/// buffers). A ladder without polling keeps reconnecting on its last rung, as a browser's `EventSource` does. Every
/// message reaches the app once, in `seq` order (unless a deliberately broken strategy says otherwise).
///
/// The runtime (sockets, timers) performs the actions; this type has no I/O, so every transition is tested
/// without sockets.
public struct HybridClientStateMachine: Sendable {
    /// A rung of the client's ladder, and how a message reached the client.
    public enum Transport: String, Sendable, Hashable, CaseIterable {
        /// Pushed over the WebSocket (`/ws/progress`).
        case websocket
        /// Pushed over a Server-Sent Events stream (`/sse/progress`).
        case sse
        /// Fetched from the job-state endpoint (polling or state sync).
        case polling

        /// Whether the server pushes messages over it (an open link the client keeps).
        public var isPush: Bool {
            switch self {
            case .websocket, .sse: true
            case .polling: false
            }
        }
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
        /// The push link opened (the WebSocket upgrade succeeded; the event stream answered 200).
        case linkOpened
        /// The push link could not be opened (refused, upgrade rejected, an error status, timed out).
        case linkFailed(reason: String)
        /// An open push link closed (close frame, EOF, reset, the event stream's end).
        case linkClosed(code: Int?, reason: String)
        /// A progress message arrived on the push link.
        case received(ProgressMessage)
        /// A ping, pong, `ready_ack`, comment or `retry:` arrived: the line is alive.
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
        /// Time to try the first rung again while polling.
        case probeTimerFired
        /// The state sync after a reconnect answered.
        case stateSyncAnswered(JobState)
        /// The state sync failed.
        case stateSyncFailed(reason: String)
    }

    /// Something the runtime must do (or report).
    public enum Action: Sendable, Hashable {
        /// Open a push link over `transport`; `attempt` 0 is the first try on the rung or a probe, then 1, 2, … for
        /// reconnects. An event stream asks to resume after ``resumeSeq`` (`Last-Event-ID`; none when 0).
        case connectLink(Transport, attempt: Int, probe: Bool)
        /// Send `{"type": "ready", "lastSeq": N}` (WebSocket).
        case sendReady(lastSeq: Int)
        /// Close the push link.
        case closeLink
        /// Wait, then fire `reconnectTimerFired`.
        case scheduleReconnect(attempt: Int, after: Duration)
        /// (Re)start the heartbeat timer.
        case armHeartbeat(Duration)
        /// The client steps down its ladder to `to` (reported as a fallback): polling, or the next push rung.
        case fallBack(to: Transport, reason: String)
        /// Fetch the job state since `since` now.
        case poll(since: Int)
        /// Wait, then fire `pollTimerFired`.
        case schedulePoll(after: Duration)
        /// Wait, then fire `probeTimerFired`.
        case scheduleProbe(after: Duration)
        /// A probe succeeded: back on the first rung (polling stops).
        case recovered
        /// Fetch the job state since `since` to fill a gap after a reconnect.
        case fetchState(since: Int, attempt: Int)
        /// Hand a message to the app.
        case deliver(ProgressMessage, via: Transport)
        /// A message already delivered arrived again and was dropped.
        case dropDuplicate(seq: Int)
        /// The job is over for this client.
        case finish(Outcome)
    }

    /// Where the client is; `rung` indexes the ladder's push transports.
    private enum State: Sendable, Hashable {
        case idle
        case connecting(rung: Int, attempt: Int)
        case open(rung: Int)
        case backingOff(rung: Int, attempt: Int)
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
    /// The attempt that opened the link now open, until something arrives over it: a link that opens and then stays
    /// silent for the whole heartbeat timeout (an event stream a proxy buffers) counts as that attempt failing, so
    /// the tries run out and the client steps down, instead of starting over at every reopening.
    private var unprovenAttempt: Int?

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
            guard !self.pushRungs.isEmpty else {
                self.state = .polling(probing: false)
                return [.poll(since: self.lastSeq)]
            }
            return self.connect(rung: 0, attempt: 0, probe: false)
        case (.idle, _):
            return []

        case (.connecting(let rung, let attempt), .linkOpened):
            self.state = .open(rung: rung)
            self.unprovenAttempt = attempt
            var actions = self.readyActions(rung: rung)
            actions += self.heartbeatActions()
            if attempt > 0 && self.strategy.stateSync {
                actions.append(self.startStateSync())
            }
            return actions
        case (.polling(probing: true), .linkOpened):
            self.state = .open(rung: 0)
            self.unprovenAttempt = nil
            return [.recovered] + self.readyActions(rung: 0) + self.heartbeatActions()
        case (.open, .linkOpened), (.backingOff, .linkOpened), (.polling(probing: false), .linkOpened):
            return [.closeLink]

        case (.connecting(let rung, let attempt), .linkFailed(let reason)),
            (.connecting(let rung, let attempt), .linkClosed(_, let reason)):
            return self.lost(rung: rung, after: attempt, reason: reason)
        case (.open, .linkClosed(1012, _)) where self.strategy.defect == .givesUpOnRestart:
            // Mutant `gives-up-on-restart`: a server restart taken as the end of the job.
            self.state = .finished
            return [.finish(.failed)]
        case (.open(let rung), .linkFailed(let reason)), (.open(let rung), .linkClosed(_, let reason)):
            return self.lost(rung: rung, after: 0, reason: reason)
        case (.open(let rung), .heartbeatExpired):
            return [.closeLink] + self.lost(rung: rung, after: self.unprovenAttempt ?? 0, reason: "heartbeat timeout")
        case (.polling(probing: true), .linkFailed), (.polling(probing: true), .linkClosed):
            self.state = .polling(probing: false)
            return self.probeActions()

        case (.backingOff(let rung, let attempt), .reconnectTimerFired):
            return self.connect(rung: rung, attempt: attempt, probe: false)

        case (.open, .received(let message)):
            self.unprovenAttempt = nil
            if message.seq > self.lastSeq + 1 && self.strategy.stateSync {
                // A gap: fetch what is missing instead of delivering out of order.
                guard !self.syncInFlight else { return self.heartbeatActions() }
                return self.heartbeatActions() + [self.startStateSync()]
            }
            return self.heartbeatActions() + self.deliver([message], via: self.currentTransport)
        case (.open, .heartbeat):
            self.unprovenAttempt = nil
            return self.heartbeatActions()

        case (.open, .stateSyncAnswered(let jobState)), (.polling, .stateSyncAnswered(let jobState)):
            self.syncInFlight = false
            // Mutant `state-sync-skips-dedup`: what the sync fetched is delivered whole.
            let deduplicate = self.strategy.defect != .stateSyncSkipsDeduplication
            return self.deliver(jobState.messages, via: .polling, deduplicate: deduplicate)
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
            return [self.connectAction(rung: 0, attempt: 0, probe: true)]

        case (.polling(probing: true), .received(let message)):
            return self.deliver([message], via: self.pushRungs[0])

        // A timer, answer or link event that no longer matters in this state (e.g. a poll timer after recovering).
        case (.connecting, .start), (.connecting, .received), (.connecting, .heartbeat),
            (.connecting, .heartbeatExpired), (.connecting, .reconnectTimerFired), (.connecting, .pollTimerFired),
            (.connecting, .pollAnswered), (.connecting, .pollFailed), (.connecting, .probeTimerFired),
            (.connecting, .stateSyncAnswered),
            (.open, .start), (.open, .reconnectTimerFired), (.open, .pollTimerFired), (.open, .pollAnswered),
            (.open, .pollFailed), (.open, .probeTimerFired),
            (.backingOff, .start), (.backingOff, .linkFailed), (.backingOff, .linkClosed), (.backingOff, .received),
            (.backingOff, .heartbeat), (.backingOff, .heartbeatExpired), (.backingOff, .pollTimerFired),
            (.backingOff, .pollAnswered), (.backingOff, .pollFailed), (.backingOff, .probeTimerFired),
            (.backingOff, .stateSyncAnswered),
            (.polling, .start), (.polling(probing: false), .linkFailed), (.polling(probing: false), .linkClosed),
            (.polling(probing: false), .received), (.polling, .heartbeat), (.polling, .heartbeatExpired),
            (.polling, .reconnectTimerFired), (.polling(probing: true), .probeTimerFired):
            return []
        }
    }

    /// The push transport of the link the client is on (or connecting over).
    private var currentTransport: Transport {
        switch self.state {
        case .connecting(let rung, _), .open(let rung), .backingOff(let rung, _): self.pushRungs[rung]
        case .polling(probing: true): self.pushRungs[0]
        case .idle, .polling(probing: false), .finished: .polling
        }
    }

    /// The ladder's push rungs, in order: those before polling, which ends a ladder (a slice of the strategy's, so the
    /// message path allocates nothing).
    private var pushRungs: ArraySlice<Transport> { self.strategy.transports.prefix(while: \.isPush) }

    private mutating func connect(rung: Int, attempt: Int, probe: Bool) -> [Action] {
        self.state = .connecting(rung: rung, attempt: attempt)
        return [self.connectAction(rung: rung, attempt: attempt, probe: probe)]
    }

    private func connectAction(rung: Int, attempt: Int, probe: Bool) -> Action {
        .connectLink(self.pushRungs[rung], attempt: attempt, probe: probe)
    }

    /// The `seq` a new push link resumes after: the last delivered one, or 0 for a strategy that does not resume
    /// (a WebSocket's `ready`, an event stream's `Last-Event-ID`).
    public var resumeSeq: Int {
        self.strategy.resume ? self.lastSeq : 0
    }

    /// What an opened link needs: a WebSocket's `ready` (an event stream asked to resume in its request).
    private func readyActions(rung: Int) -> [Action] {
        switch self.pushRungs[rung] {
        case .websocket: [.sendReady(lastSeq: self.resumeSeq)]
        case .sse, .polling: []
        }
    }

    private var syncAttempt = 0

    private mutating func startStateSync() -> Action {
        self.syncInFlight = true
        self.syncAttempt = 1
        return .fetchState(since: self.lastSeq, attempt: 1)
    }

    private mutating func lost(rung: Int, after attempt: Int, reason: String) -> [Action] {
        // Mutant `forgets-attempts`: every loss is the first.
        let next = self.strategy.defect == .forgetsAttempts ? 1 : attempt + 1
        let fallsBack = self.strategy.transports.last == .polling || rung + 1 < self.pushRungs.count
        if next <= self.strategy.reconnectAttempts || !fallsBack {
            // A ladder that ends on a push rung keeps trying it, at the longest backoff once the tries are spent.
            self.state = .backingOff(rung: rung, attempt: next)
            return [.scheduleReconnect(attempt: next, after: self.jitteredBackoff(attempt: next))]
        }
        if self.strategy.defect == .stopsAfterRetries {
            // Mutant `stops-after-retries`: the tries spent, the client gives up on the job.
            self.state = .finished
            return [.finish(.failed)]
        }
        if rung + 1 < self.pushRungs.count {
            let actions: [Action] = [.fallBack(to: self.pushRungs[rung + 1], reason: reason)]
            return actions + self.connect(rung: rung + 1, attempt: 0, probe: false)
        }
        self.state = .polling(probing: false)
        return [.fallBack(to: .polling, reason: reason), .poll(since: self.lastSeq)] + self.probeActions()
    }

    private func probeActions() -> [Action] {
        guard let interval = self.strategy.probeInterval, !self.pushRungs.isEmpty else { return [] }
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

    private mutating func deliver(
        _ messages: [ProgressMessage],
        via transport: Transport,
        deduplicate: Bool = true
    ) -> [Action] {
        var actions: [Action] = []
        for message in messages {
            if message.seq <= self.lastSeq && self.strategy.deduplicate && deduplicate {
                actions.append(.dropDuplicate(seq: message.seq))
                continue
            }
            actions.append(.deliver(message, via: transport))
            self.lastSeq = max(self.lastSeq, message.seq)
            if message.isFinal {
                let wasOpen: Bool
                switch self.state {
                case .open, .polling(probing: true): wasOpen = true
                case .idle, .connecting, .backingOff, .polling(probing: false), .finished: wasOpen = false
                }
                self.state = .finished
                if wasOpen { actions.append(.closeLink) }
                actions.append(.finish(message.type == .complete ? .completed : .failed))
                break
            }
        }
        return actions
    }
}
