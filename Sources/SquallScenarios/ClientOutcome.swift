import SquallReferenceClient

/// What one client did, summarised from the event log: the per-client samples every metric is built from.
public struct ClientOutcome: Sendable, Hashable {
    /// The client's id.
    public var id: String
    /// Its group.
    public var group: String
    /// Its strategy preset.
    public var strategy: String
    /// The job it followed.
    public var jobId: String
    /// When it started (ms since the epoch).
    public var startTime: Double
    /// When it ended: `finished`, `stopped` or the end of the log (ms since the epoch).
    public var endTime: Double
    /// `completed`, `failed`, or `stopped` when the run ended first.
    public var outcome: String
    /// Whether it fell back to polling at least once.
    public var fellBack: Bool
    /// WebSocket connect attempts.
    public var connectAttempts: Int
    /// Attempts that opened.
    public var connections: Int
    /// Distinct messages delivered.
    public var delivered: Int
    /// Deliveries via polling (including state syncs).
    public var deliveredByPolling: Int
    /// Deliveries beyond the first of a seq.
    public var duplicates: Int
    /// Published messages never delivered.
    public var lost: Int
    /// Deliveries of messages never published.
    public var unexpected: Int
    /// Publication → delivery of each first delivery, scenario milliseconds.
    public var latencies: [Observation]
    /// Start → first delivery, scenario milliseconds.
    public var timeToFirstUpdate: Observation?
    /// `reconnect_attempt` events.
    public var reconnectAttempts: Int
    /// Loss of an open WebSocket → next `connected`, scenario milliseconds.
    public var recoveries: [Observation]
    /// The start (WebSocket never opened) or the loss of an open WebSocket → the first poll after it, scenario
    /// milliseconds: how long the client kept trying WebSocket before it fell back, once per fallback.
    public var fallbackDelays: [Observation] = []
    /// After each lift of a fault (or end of a handoff blackout) that found the client polling: how long until it
    /// had a WebSocket again, scenario milliseconds.
    public var pollingAfterRecovery: [Observation] = []
    /// Each WebSocket connect attempt, from the attempt to its answer: 1 when it opened, 0 when it failed or was
    /// never answered.
    public var connectResults: [Observation] = []
    /// The transports it used, a bit each: those it connected over (`websocket`, `sse`) and `polling` once it
    /// polled (what a gate's `{transport:…}` tag selects). A byte, not a set: a million clients' outcomes are held.
    public private(set) var transportBits: UInt8 = 0
    /// One sample per event stream reopened for it after it had delivered a message: 1 when the stream asked for
    /// exactly what it was missing, 0 otherwise (the reference server's `sse_opened`).
    public var resumes: [Observation] = []
    /// The loss of an open event stream → the first new message over an event stream again, scenario ms.
    public var resumeDelays: [Observation] = []
    /// Per reopened event stream: how many messages it sent again that the client already had.
    public var replays: [Observation] = []
    /// When it first fell back (its first `fallback` event, log time).
    public var fellBackAt: Double?
    /// The first lift that found it polling (log time).
    public var pollingAtLiftSince: Double?
    /// When each message it lost was published (log time).
    public var lostAt: [Double] = []
    /// When each duplicate was delivered (log time).
    public var duplicateTimes: [Double] = []
    /// When each `reconnect_attempt` was made (log time).
    public var reconnectTimes: [Double] = []
    /// Whether a lift found the client polling and it was still polling, its job unfinished, when the run ended.
    public var stuckOnPolling = false
    /// Whether any lift found the client polling.
    public var pollingAtALift = false
    /// When each WebSocket connect attempt was made, scenario milliseconds since the run started.
    public var connectAttemptTimes: [Double] = []
    /// When each poll was sent, scenario milliseconds since the run started.
    public var pollTimes: [Double] = []
    /// Per timeline step (by name): each of its ends that found the client running → the client on WebSocket
    /// again or done, scenario ms (infinite: never).
    public var stepRecoveries: [String: [Observation]] = [:]
    /// Per timeline step: each of its starts that found the client running → its first poll, scenario ms
    /// (infinite: never; no sample when its job finished first).
    public var stepFallbacks: [String: [Observation]] = [:]
    /// Per timeline step: when each message published while it was in force that the client never delivered was
    /// published (log time).
    public var stepLost: [String: [Double]] = [:]

    /// Messages lost while the step named `step` was in force (every step's when nil).
    public func lostMessages(inStep step: String?) -> Int {
        step.map { self.stepLost[$0]?.count ?? 0 } ?? self.stepLost.values.reduce(0) { $0 + $1.count }
    }
    /// Polls sent.
    public var polls: Int
    /// Malformed lines an external client wrote (counted, never fatal).
    public var malformedLines: Int
    /// How an external client's process ended, when it did not simply exit after its job: `exited (exit status 3)
    /// before its job finished`, `still running when the run ended`, `failed to start: …`. Nil for reference clients.
    public var process: String?

    /// Whether it used `transport`.
    public func used(_ transport: HybridClientStateMachine.Transport) -> Bool {
        self.transportBits & Self.bit(transport) != 0
    }

    /// Records that it used `transport`.
    public mutating func markUsed(_ transport: HybridClientStateMachine.Transport) {
        self.transportBits |= Self.bit(transport)
    }

    private static func bit(_ transport: HybridClientStateMachine.Transport) -> UInt8 {
        switch transport {
        case .websocket: 1
        case .sse: 2
        case .polling: 4
        }
    }
}
