import SquallReferenceProtocol

/// The hybrid client's runtime decisions as a value, around its ``HybridClientStateMachine``: which WebSocket is
/// current, which timer is still wanted, what each step reports. Feed it what happened (with the time); it returns
/// what to do.
///
/// ``HybridClient`` performs its effects over real sockets and `Task.sleep`; Squall's simulator performs the same
/// effects on a virtual clock. So a client behaves, and reports, the same way in both: one runtime, two worlds.
package struct HybridClientDriver: Sendable {
    /// A timer the runtime keeps.
    package enum Timer: Hashable, Sendable {
        /// The reconnect backoff.
        case reconnect
        /// The next poll.
        case poll
        /// The next WebSocket probe while polling.
        case probe
        /// The heartbeat watcher.
        case heartbeat
    }

    /// Which job-state request.
    package enum Fetch: Hashable, Sendable {
        /// A poll.
        case poll
        /// A state sync after a reconnect (its attempt number).
        case stateSync(attempt: Int)
    }

    /// Something that happened.
    package enum Input: Sendable {
        /// Begin.
        case start
        /// The link `id` opened (its upgrade succeeded; its event stream answered 200).
        case linkOpened(id: Int)
        /// The link `id` failed to open, closed, or carried a message or a heartbeat.
        case link(id: Int, HybridClientStateMachine.Event)
        /// A ping arrived on link `id`.
        case ping(id: Int, payload: [UInt8])
        /// The timer of this generation fired.
        case timer(Timer, generation: Int)
        /// A job-state request answered (or failed).
        case fetched(Fetch, JobStateRequest.Outcome)
    }

    /// Something the runtime must do.
    package enum Effect: Sendable, Hashable {
        /// Report this event, stamped with the time given with the input.
        case report(ClientEvent.Kind)
        /// Open link `id` over `transport` (with the strategy's connect timeout); an event stream sends
        /// `Last-Event-ID: resumeAfter` unless it is 0.
        case openLink(id: Int, HybridClientStateMachine.Transport, resumeAfter: Int)
        /// Send a text frame on link `id`.
        case sendText(id: Int, String)
        /// Answer a ping on link `id`.
        case sendPong(id: Int, payload: [UInt8])
        /// Close link `id` (a WebSocket's close frame 1000, then the socket); later events of it are ignored.
        case closeLink(id: Int)
        /// Fire `.timer(timer, generation:)` after `after`; a newer generation of the same timer replaces it.
        case startTimer(Timer, generation: Int, after: Duration)
        /// Send this job-state request (with the strategy's request timeout) and feed back its outcome.
        case fetch(Fetch, since: Int)
        /// The job is over for this client.
        case finished(HybridClientStateMachine.Outcome)
    }

    private var machine: HybridClientStateMachine
    private var linkCount = 0
    private var currentLink: Int?
    /// Whether the current link is open (its upgrade succeeded).
    private var linkIsOpen = false
    private var currentAttempt = (attempt: 0, probe: false, transport: HybridClientStateMachine.Transport.websocket)
    private var generations: [Timer: Int] = [:]
    /// When the heartbeat expires (ms, the clock of the inputs), and whether a watcher timer is pending.
    private var heartbeatDeadline: Double?
    private var heartbeatWatcherPending = false
    /// How the job ended, once it did.
    package private(set) var outcome: HybridClientStateMachine.Outcome?

    /// Creates a driver for one client.
    package init(strategy: ClientStrategy, seed: UInt64) {
        self.machine = HybridClientStateMachine(strategy: strategy, seed: seed)
    }

    /// The strategy in force.
    package var strategy: ClientStrategy { self.machine.strategy }

    /// Whether the client is polling now.
    package var isPolling: Bool { self.machine.isPolling }

    /// The link whose events still count, if any.
    package var activeLink: Int? { self.currentLink }

    /// Handles one input at `now` (milliseconds, the clock reports are stamped with).
    package mutating func handle(_ input: Input, now: Double) -> [Effect] {
        var effects: [Effect] = []
        switch input {
        case .start:
            self.perform(self.machine.handle(.start), closing: "", now: now, into: &effects)
        case .ping(let id, let payload):
            // Answered by the runtime's one loop, so a suspended client stops answering as a frozen app does.
            guard id == self.currentLink else { return [] }
            effects.append(.sendPong(id: id, payload: payload))
            self.perform(self.machine.handle(.heartbeat), closing: "", now: now, into: &effects)
        case .linkOpened(let id):
            guard id == self.currentLink else { return [.closeLink(id: id)] }
            self.linkIsOpen = true
            let (attempt, probe, transport) = self.currentAttempt
            effects.append(.report(.connected(attempt: attempt, probe: probe, via: transport)))
            self.perform(
                self.machine.handle(.linkOpened),
                closing: "not needed any more",
                now: now,
                into: &effects
            )
        case .link(let id, let event):
            guard id == self.currentLink else { return [] }
            switch event {
            case .linkFailed(let reason):
                effects.append(.report(.connectFailed(reason: reason)))
                self.dropLink()
            case .linkClosed(let code, let reason):
                effects.append(.report(.closed(code: code, reason: reason)))
                self.dropLink()
            case .start, .linkOpened, .received, .heartbeat, .heartbeatExpired, .reconnectTimerFired, .pollTimerFired,
                .pollAnswered, .pollFailed, .probeTimerFired, .stateSyncAnswered, .stateSyncFailed:
                break
            }
            self.perform(self.machine.handle(event), closing: "job finished", now: now, into: &effects)
        case .timer(.heartbeat, let generation):
            guard generation == self.generations[.heartbeat] else { return [] }
            self.heartbeatWatcherPending = false
            guard let deadline = self.heartbeatDeadline else { return [] }
            if now >= deadline - Self.timerResolution {
                self.heartbeatDeadline = nil
                self.perform(
                    self.machine.handle(.heartbeatExpired),
                    closing: "heartbeat timeout",
                    now: now,
                    into: &effects
                )
            } else {
                self.watchHeartbeat(until: deadline, now: now, into: &effects)
            }
        case .timer(let timer, let generation):
            guard generation == self.generations[timer] else { return [] }
            let event: HybridClientStateMachine.Event =
                switch timer {
                case .reconnect: .reconnectTimerFired
                case .poll: .pollTimerFired
                case .probe, .heartbeat: .probeTimerFired
                }
            self.perform(self.machine.handle(event), closing: "", now: now, into: &effects)
        case .fetched(.poll, let outcome):
            switch outcome {
            case .answered(let state):
                effects.append(.report(.poll(status: 200, messages: state.messages.count, error: nil)))
                self.perform(
                    self.machine.handle(.pollAnswered(state)),
                    closing: "job finished",
                    now: now,
                    into: &effects
                )
            case .failed(let status, let reason):
                effects.append(.report(.poll(status: status, messages: 0, error: reason)))
                self.perform(self.machine.handle(.pollFailed(reason: reason)), closing: "", now: now, into: &effects)
            }
        case .fetched(.stateSync(let attempt), let outcome):
            switch outcome {
            case .answered(let state):
                effects.append(
                    .report(.stateSync(attempt: attempt, status: 200, messages: state.messages.count, error: nil))
                )
                self.perform(
                    self.machine.handle(.stateSyncAnswered(state)),
                    closing: "job finished",
                    now: now,
                    into: &effects
                )
            case .failed(let status, let reason):
                effects.append(.report(.stateSync(attempt: attempt, status: status, messages: 0, error: reason)))
                self.perform(
                    self.machine.handle(.stateSyncFailed(reason: reason)),
                    closing: "",
                    now: now,
                    into: &effects
                )
            }
        }
        return effects
    }

    /// The client is being stopped before its job ended: close the current link, report `stopped`.
    package mutating func stop(reason: String) -> [Effect] {
        guard self.outcome == nil else { return [] }
        var effects: [Effect] = [.report(.stopped(reason: reason))]
        if let id = self.currentLink { effects.append(.closeLink(id: id)) }
        self.dropLink()
        return effects
    }

    private mutating func perform(
        _ actions: [HybridClientStateMachine.Action],
        closing reason: String,
        now: Double,
        into effects: inout [Effect]
    ) {
        for action in actions {
            switch action {
            case .connectLink(let transport, let attempt, let probe):
                if let id = self.currentLink { effects.append(.closeLink(id: id)) }
                self.dropLink()
                self.linkCount += 1
                self.currentLink = self.linkCount
                self.currentAttempt = (attempt, probe, transport)
                effects.append(.report(.connectAttempt(attempt: attempt, probe: probe)))
                effects.append(.openLink(id: self.linkCount, transport, resumeAfter: self.machine.resumeSeq))
            case .sendReady(let lastSeq):
                guard let id = self.currentLink, self.linkIsOpen else { break }
                let ready = String(
                    decoding: ProtocolJSON.encode(HandshakeMessage.ready(lastSeq: lastSeq)),
                    as: UTF8.self
                )
                effects.append(.sendText(id: id, ready))
            case .closeLink:
                if let id = self.currentLink {
                    if self.linkIsOpen {
                        // A WebSocket closes with 1000; an event stream has no close code.
                        let code = self.currentAttempt.transport == .websocket ? 1000 : nil
                        effects.append(.report(.closed(code: code, reason: "client closed: \(reason)")))
                    }
                    effects.append(.closeLink(id: id))
                }
                self.dropLink()
            case .scheduleReconnect(let attempt, let delay):
                effects.append(.report(.reconnectAttempt(attempt: attempt, delayMs: delay.milliseconds)))
                self.startTimer(.reconnect, after: delay, into: &effects)
            case .armHeartbeat(let timeout):
                let deadline = now + timeout.milliseconds
                self.heartbeatDeadline = deadline
                if !self.heartbeatWatcherPending {
                    self.watchHeartbeat(until: deadline, now: now, into: &effects)
                }
            case .fallBack(to: .polling, let reason):
                effects.append(.report(.fallback(reason: reason)))
            case .fallBack(let transport, let reason):
                effects.append(.report(.steppedDown(to: transport, reason: reason)))
            case .poll(let since):
                effects.append(.fetch(.poll, since: since))
            case .schedulePoll(let delay):
                self.startTimer(.poll, after: delay, into: &effects)
            case .scheduleProbe(let delay):
                self.startTimer(.probe, after: delay, into: &effects)
            case .recovered:
                effects.append(.report(.recovered))
            case .fetchState(let since, let attempt):
                effects.append(.fetch(.stateSync(attempt: attempt), since: since))
            case .deliver(let message, let via):
                effects.append(
                    .report(
                        .delivered(
                            seq: message.seq,
                            via: via,
                            latencyMs: now - Double(message.timestamp),
                            type: message.type
                        )
                    )
                )
            case .dropDuplicate(let seq):
                effects.append(.report(.duplicateDropped(seq: seq)))
            case .finish(let outcome):
                effects.append(.report(.finished(outcome: outcome)))
                self.outcome = outcome
                effects.append(.finished(outcome))
            }
        }
    }

    private mutating func dropLink() {
        self.currentLink = nil
        self.linkIsOpen = false
        self.heartbeatDeadline = nil
    }

    private mutating func startTimer(_ timer: Timer, after delay: Duration, into effects: inout [Effect]) {
        let generation = (self.generations[timer] ?? 0) + 1
        self.generations[timer] = generation
        effects.append(.startTimer(timer, generation: generation, after: delay))
    }

    /// How close to a deadline (ms) a timer counts as having reached it. A timer that fires a hair early (times are
    /// doubles, timers whole nanoseconds) would otherwise be set again for nothing, and in virtual time, where nothing
    /// else moves the clock, again and again at the same instant for ever.
    static let timerResolution = 0.001

    private mutating func watchHeartbeat(until deadline: Double, now: Double, into effects: inout [Effect]) {
        let generation = (self.generations[.heartbeat] ?? 0) + 1
        self.generations[.heartbeat] = generation
        self.heartbeatWatcherPending = true
        let wait = Duration.nanoseconds(Int64((max(0, deadline - now) * 1_000_000).rounded(.up)))
        effects.append(.startTimer(.heartbeat, generation: generation, after: wait))
    }
}
