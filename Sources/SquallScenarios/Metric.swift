/// The metrics a run computes from its event log, each of one k6 kind.
public enum Metric: String, Sendable, Hashable, CaseIterable {
    /// Sessions (clients) that used polling at least once / sessions. Rate.
    case fallbackRate = "fallback_rate"
    /// WebSocket connect attempts that opened / attempts. Rate.
    case websocketSuccessRate = "websocket_success_rate"
    /// Clients whose job completed / clients. Rate.
    case completionRate = "completion_rate"
    /// Deliveries of a (job, seq) beyond the first. Counter.
    case duplicateMessages = "duplicate_messages"
    /// Published messages a client following the job never delivered (published before it stopped). Counter.
    case lostMessages = "lost_messages"
    /// Deliveries of a (job, seq) the server never published. Counter.
    case unexpectedMessages = "unexpected_messages"
    /// Server publication → client delivery, first deliveries, scenario milliseconds. Trend.
    case updateLatency = "update_latency_ms"
    /// Client start → its first delivery, scenario milliseconds. Trend.
    case timeToFirstUpdate = "time_to_first_update_ms"
    /// `reconnect_attempt` events. Counter.
    case reconnectAttempts = "reconnect_attempts"
    /// Loss of an open WebSocket → the next `connected`, scenario milliseconds. Trend.
    case timeToRecover = "time_to_recover_ms"
    /// The start (when WebSocket never opened) or the loss of an open WebSocket → the first poll after it,
    /// scenario milliseconds, once per fallback: a client stuck retrying WebSocket shows here (or, never polling,
    /// has no sample and fails a `count` gate). Trend.
    case timeToFallback = "time_to_fallback_ms"
    /// After a fault is lifted (or a handoff's blackout ends) while a client polls: the time until it has a
    /// WebSocket again, scenario milliseconds. Trend.
    case timeOnPollingAfterRecovery = "time_on_polling_after_recovery_ms"
    /// Clients a lift found polling that were still polling, job unfinished, when the run ended / clients a lift
    /// found polling: sticky fallback. Rate.
    case stuckOnPollingRate = "stuck_on_polling_rate"
    /// The most WebSocket connect attempts the clients made in one second of scenario time: the reconnect storm a
    /// handoff or a server restart sends at the server. Counter (use `count`).
    case connectRatePeak = "server_connect_rate_peak"
    /// The most polls the clients sent in one second of scenario time. Counter (use `count`).
    case pollingRatePeak = "polling_rate_peak"
    /// Per timeline step (tag `step:NAME`; see ``StepExpectation``): for each client the step targeted that had
    /// not finished when it ended, the step's end → the client on WebSocket again or done, scenario milliseconds
    /// (infinite when it never was). Trend.
    case stepRecovery = "step_recovery_ms"
    /// Per timeline step: for each client the step targeted that was running when it started, the step's start →
    /// its first poll, scenario milliseconds (infinite when it never polled; none when it finished first). Trend.
    case stepFallback = "step_fallback_ms"
    /// Per timeline step: messages published between the step's start and end that a client it targeted never
    /// delivered. Counter.
    case stepLostMessages = "step_lost_messages"
    /// `poll` requests. Counter.
    case pollingRequests = "polling_requests"
    /// Lines of an external client's output that broke the event contract. Counter.
    case malformedOutput = "client_output_malformed"
    /// Fault applications on the timeline (faults, handoffs, suspensions, restarts). Counter.
    case faultEvents = "fault_events"
    /// Faults that never acted on a single connection (a fault that was never injected). Counter.
    case faultsNotInjected = "faults_not_injected"
    /// Event streams reopened for a client that had delivered a message (the reference server's `sse_opened`) that
    /// asked for exactly what it was missing — `Last-Event-ID` equal to the highest sequence number it had
    /// delivered — / such reopenings. Rate.
    case resumeSuccessRate = "resume_success_rate"
    /// The loss of an open event stream → the first message the client did not have, delivered over an event
    /// stream again, scenario milliseconds (none when it never came back to one). Trend.
    case timeToResume = "time_to_resume_ms"
    /// Messages a reopened event stream sent again that its client already had: what a resume re-sent (the replay
    /// after a stale or missing `Last-Event-ID`). Counter.
    case replayedEvents = "replayed_events"

    /// The k6 metric kinds, which decide the aggregations a gate may use.
    public enum Kind: String, Sendable {
        /// A fraction of true samples: `rate`.
        case rate
        /// A count: `count`.
        case counter
        /// A distribution: `p(N)`, `avg`, `min`, `max`, `med`, `count`.
        case trend
    }

    /// Whether a gate on this metric judges *safety* — something that must never happen, which no slowness of the
    /// harness can cause: a duplicate or unexpected message, malformed client output, a fault that was not injected.
    /// A failed safety gate fails the run whatever the harness did; only timing and liveness gates (latencies,
    /// recovery and fallback times, rates, completion, lost messages) can be excused by an overloaded harness.
    public var isSafety: Bool {
        switch self {
        case .duplicateMessages, .unexpectedMessages, .malformedOutput, .faultsNotInjected:
            return true
        case .fallbackRate, .websocketSuccessRate, .completionRate, .lostMessages, .updateLatency,
            .timeToFirstUpdate, .reconnectAttempts, .timeToRecover, .timeToFallback, .timeOnPollingAfterRecovery,
            .stuckOnPollingRate, .connectRatePeak, .pollingRatePeak, .stepRecovery, .stepFallback,
            .stepLostMessages, .pollingRequests, .faultEvents, .resumeSuccessRate, .timeToResume, .replayedEvents:
            return false
        }
    }

    /// This metric's kind.
    public var kind: Kind {
        switch self {
        case .fallbackRate, .websocketSuccessRate, .completionRate, .stuckOnPollingRate, .resumeSuccessRate: .rate
        case .duplicateMessages, .lostMessages, .unexpectedMessages, .reconnectAttempts, .pollingRequests,
            .malformedOutput, .connectRatePeak, .pollingRatePeak,
            .faultEvents, .faultsNotInjected, .stepLostMessages, .replayedEvents:
            .counter
        case .updateLatency, .timeToFirstUpdate, .timeToRecover, .timeToFallback, .timeOnPollingAfterRecovery,
            .stepRecovery, .stepFallback, .timeToResume:
            .trend
        }
    }

    /// Whether tag filters (`{strategy:…}`, `{group:…}`, `{client:…}`) apply: per-client metrics only.
    public var isPerClient: Bool {
        self != .faultEvents && self != .faultsNotInjected
    }

    /// Whether the metric is about event streams: reports list it only for runs in which a client had one (so a log
    /// written before event streams existed re-checks to the same report).
    public var isAboutEventStreams: Bool {
        switch self {
        case .resumeSuccessRate, .timeToResume, .replayedEvents:
            return true
        case .fallbackRate, .websocketSuccessRate, .completionRate, .duplicateMessages, .lostMessages,
            .unexpectedMessages, .updateLatency, .timeToFirstUpdate, .reconnectAttempts, .timeToRecover,
            .timeToFallback, .timeOnPollingAfterRecovery, .stuckOnPollingRate, .connectRatePeak, .pollingRatePeak,
            .stepRecovery, .stepFallback, .stepLostMessages, .pollingRequests, .malformedOutput, .faultEvents,
            .faultsNotInjected:
            return false
        }
    }

    /// Whether this is a per-step metric, which also takes the tag `{step:NAME}`.
    public var isPerStep: Bool {
        self == .stepRecovery || self == .stepFallback || self == .stepLostMessages
    }
}
