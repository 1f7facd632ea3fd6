/// How a hybrid client behaves: its ladder of transports, reconnection backoff, fallback, return to the first rung,
/// heartbeat and delivery rules. Every duration is multiplied by `timeScale`, so scenarios can run the seeds' real timings fast.
public struct ClientStrategy: Sendable, Hashable {
    /// The preset's name.
    public var name: String
    /// The ladder of transports, tried in order: each push rung (`websocket`, `sse`) until its reconnect tries are
    /// spent, then the next; `polling`, when present, is last. Default `websocket` then `polling`, the seeds'.
    public var transports: [HybridClientStateMachine.Transport] = [.websocket, .polling]
    /// Reconnect tries after a push link's loss before stepping down the ladder; 0 steps down at once.
    public var reconnectAttempts: Int
    /// Wait before the first reconnect.
    public var initialBackoff: Duration
    /// Each later wait is the previous one times this.
    public var backoffMultiplier: Double
    /// The longest wait.
    public var maximumBackoff: Duration
    /// Each wait varies uniformly by ± this fraction (seeded).
    public var backoffJitter: Double
    /// Time between polls once polling.
    public var pollInterval: Duration
    /// While polling, try the first rung again this often; nil stays on polling for the rest of the job.
    public var probeInterval: Duration?
    /// A push link that brings nothing (no message, pong, comment) for this long is treated as dead; nil never
    /// notices (so never leaves a half-open socket or an event stream a proxy buffers).
    public var heartbeatTimeout: Duration?
    /// After a reconnect, fetch the job state to fill any gap.
    public var stateSync: Bool
    /// Tries of that fetch.
    public var stateSyncAttempts: Int
    /// Drop messages whose `seq` was already delivered.
    public var deduplicate: Bool
    /// Send the last delivered `seq` in `ready` after a reconnect (false replays from 0).
    public var resume: Bool
    /// How long opening a connection (TCP and the WebSocket upgrade) may take before it counts as failed; default 10 s.
    public var connectTimeout: Duration
    /// How long a job-state request (poll or state sync) may take before it counts as failed; default 10 s.
    public var requestTimeout: Duration
    /// Multiplies every duration above.
    public var timeScale: Double
    /// A mutant's deliberate bug in the state machine (``mutants``); nil for every preset a user runs.
    public var defect: ClientDefect?
    /// What the preset does wrong, for a mutant; empty otherwise.
    public var summary = ""

    /// Creates a strategy; see the presets for documented values.
    public init(
        name: String,
        reconnectAttempts: Int,
        initialBackoff: Duration,
        backoffMultiplier: Double,
        maximumBackoff: Duration,
        backoffJitter: Double,
        pollInterval: Duration,
        probeInterval: Duration?,
        heartbeatTimeout: Duration?,
        stateSync: Bool,
        stateSyncAttempts: Int,
        deduplicate: Bool = true,
        resume: Bool = true,
        connectTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(10),
        timeScale: Double = 1
    ) {
        self.name = name
        self.reconnectAttempts = reconnectAttempts
        self.initialBackoff = initialBackoff
        self.backoffMultiplier = backoffMultiplier
        self.maximumBackoff = maximumBackoff
        self.backoffJitter = backoffJitter
        self.pollInterval = pollInterval
        self.probeInterval = probeInterval
        self.heartbeatTimeout = heartbeatTimeout
        self.stateSync = stateSync
        self.stateSyncAttempts = stateSyncAttempts
        self.deduplicate = deduplicate
        self.resume = resume
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.timeScale = timeScale
    }

    /// A duration multiplied by `timeScale`.
    public func scaled(_ duration: Duration) -> Duration {
        duration * self.timeScale
    }

    /// The wait before reconnect try `attempt` (1-based), before jitter and scaling.
    public func backoff(attempt: Int) -> Duration {
        var delay = self.initialBackoff
        for _ in 1..<max(1, attempt) {
            delay = min(self.maximumBackoff, delay * self.backoffMultiplier)
        }
        return min(self.maximumBackoff, delay)
    }
}

extension ClientStrategy {
    /// The best of the seeds and of Socket.IO/SignalR: backoff 1 s doubling to 30 s, 5 tries, ±20 % jitter, state
    /// sync (3 tries), polling every 2 s, WebSocket probe every 30 s, heartbeat timeout 30 s.
    public static let resilient = ClientStrategy(
        name: "resilient",
        reconnectAttempts: 5,
        initialBackoff: .seconds(1),
        backoffMultiplier: 2,
        maximumBackoff: .seconds(30),
        backoffJitter: 0.2,
        pollInterval: .seconds(2),
        probeInterval: .seconds(30),
        heartbeatTimeout: .seconds(30),
        stateSync: true,
        stateSyncAttempts: 3
    )

    /// Seed 000 as written: one WebSocket try; on any failure, poll every 2 s for the rest of the job.
    public static let booktrackScanner = ClientStrategy(
        name: "booktrack-scanner",
        reconnectAttempts: 0,
        initialBackoff: .seconds(1),
        backoffMultiplier: 1,
        maximumBackoff: .seconds(1),
        backoffJitter: 0,
        pollInterval: .seconds(2),
        probeInterval: nil,
        heartbeatTimeout: nil,
        stateSync: false,
        stateSyncAttempts: 0
    )

    /// Seed 002: reconnect every 3 s × 5, fall back after 15 s without messages, poll every 5 s, return to
    /// WebSocket when it reconnects (probed every 3 s).
    public static let andiHybrid = ClientStrategy(
        name: "andi-hybrid",
        reconnectAttempts: 5,
        initialBackoff: .seconds(3),
        backoffMultiplier: 1,
        maximumBackoff: .seconds(3),
        backoffJitter: 0,
        pollInterval: .seconds(5),
        probeInterval: .seconds(3),
        heartbeatTimeout: .seconds(15),
        stateSync: false,
        stateSyncAttempts: 0
    )

    /// Seed 003: backoff 1-2-4-8-16 s capped at 30 s × 5, state sync with 3 tries, no network monitoring.
    public static let booktrackPhase1 = ClientStrategy(
        name: "booktrack-phase1",
        reconnectAttempts: 5,
        initialBackoff: .seconds(1),
        backoffMultiplier: 2,
        maximumBackoff: .seconds(30),
        backoffJitter: 0,
        pollInterval: .seconds(2),
        probeInterval: nil,
        heartbeatTimeout: nil,
        stateSync: true,
        stateSyncAttempts: 3
    )

    /// Seed 004: fall back to polling every 3 s on any WebSocket error, de-duplicate by message id.
    public static let lumeChat = ClientStrategy(
        name: "lume-chat",
        reconnectAttempts: 0,
        initialBackoff: .seconds(1),
        backoffMultiplier: 1,
        maximumBackoff: .seconds(1),
        backoffJitter: 0,
        pollInterval: .seconds(3),
        probeInterval: nil,
        heartbeatTimeout: nil,
        stateSync: false,
        stateSyncAttempts: 0
    )

    /// Deliberately broken, for proving gates: `resilient` that delivers re-sent messages twice.
    public static let brokenNoDedup: ClientStrategy = {
        var strategy = ClientStrategy.resilient
        strategy.name = "broken-no-dedup"
        strategy.deduplicate = false
        return strategy
    }()

    /// Deliberately broken: reconnects without `lastSeq` (replays from 0) and delivers what comes, so repeats.
    public static let brokenNoResume: ClientStrategy = {
        var strategy = ClientStrategy.resilient
        strategy.name = "broken-no-resume"
        strategy.resume = false
        strategy.deduplicate = false
        strategy.stateSync = false
        return strategy
    }()

    /// Deliberately broken: never notices a half-open socket.
    public static let brokenNoHeartbeat: ClientStrategy = {
        var strategy = ClientStrategy.resilient
        strategy.name = "broken-no-heartbeat"
        strategy.heartbeatTimeout = nil
        return strategy
    }()

    /// `resilient` with Server-Sent Events as its second rung (SignalR's ladder): WebSocket, then an event stream
    /// resumed with `Last-Event-ID`, then polling; the heartbeat also notices an event stream a proxy buffers.
    public static let resilientSSE: ClientStrategy = {
        var strategy = ClientStrategy.resilient
        strategy.name = "resilient-sse"
        strategy.transports = [.websocket, .sse, .polling]
        return strategy
    }()

    /// Deliberately broken: `resilient-sse` that reconnects without `Last-Event-ID` (the server replays from the
    /// start, modelcontextprotocol/inspector#723) and delivers what comes, so repeats.
    public static let brokenSSENoLastEventId: ClientStrategy = {
        var strategy = ClientStrategy.resilientSSE
        strategy.name = "broken-sse-no-last-event-id"
        strategy.resume = false
        strategy.deduplicate = false
        strategy.stateSync = false
        return strategy
    }()

    /// Deliberately broken: an event stream and nothing after it, never noticing a silent one — it stays on a
    /// stream a proxy buffers (dotnet/aspnetcore#20500).
    public static let brokenSSENeverFallsBack: ClientStrategy = {
        var strategy = ClientStrategy.resilientSSE
        strategy.name = "broken-sse-never-falls-back"
        strategy.transports = [.sse]
        strategy.heartbeatTimeout = nil
        return strategy
    }()

    /// Deliberately broken: an event stream reconnected without a delay, for ever — about 400 tries a second
    /// while the server is away (centrifugal/centrifuge-js PR #407). Its "no delay" is 2.5 ms, what a reconnect over
    /// a fast network takes (and what keeps the simulator's clock moving), scaled by the scenario's `timeScale`.
    public static let brokenSSENoDelay: ClientStrategy = {
        var strategy = ClientStrategy.resilientSSE
        strategy.name = "broken-sse-no-delay"
        strategy.transports = [.sse]
        strategy.initialBackoff = .microseconds(2_500)
        strategy.maximumBackoff = .microseconds(2_500)
        strategy.backoffMultiplier = 1
        strategy.backoffJitter = 0
        return strategy
    }()

    /// Every preset, by name.
    public static let presets: [ClientStrategy] = [
        .resilient, .booktrackScanner, .andiHybrid, .booktrackPhase1, .lumeChat,
        .brokenNoDedup, .brokenNoResume, .brokenNoHeartbeat,
        .resilientSSE, .brokenSSENoLastEventId, .brokenSSENeverFallsBack, .brokenSSENoDelay,
    ]

    /// The preset (or mutant) called `name`, or nil.
    public static func preset(named name: String) -> ClientStrategy? {
        self.presets.first { $0.name == name } ?? self.mutants.first { $0.name == name }
    }
}
