extension ClientStrategy {
    /// `resilient` with one deliberate bug each: the benchmark `squall bench explore` hunts with `squall explore`, as
    /// a mutation-testing suite does. Every mutant is a scenario preset like any other (`"strategy": "mutant-…"`),
    /// documented here and in the README's "Mutants"; none is a hidden switch. A policy mutant changes the strategy's
    /// values; a defect mutant also sets ``defect``, which the state machine honours at one documented place.
    public static let mutants: [ClientStrategy] = [
        Self.mutant("no-dedup", "delivers re-sent messages twice") { $0.deduplicate = false },
        Self.mutant("no-resume", "reconnects without lastSeq (replays from 0) and delivers what comes") {
            $0.resume = false
            $0.deduplicate = false
            $0.stateSync = false
        },
        Self.mutant("no-heartbeat", "never notices a half-open socket") { $0.heartbeatTimeout = nil },
        Self.mutant("no-jitter", "every client reconnects at the same instant") { $0.backoffJitter = 0 },
        Self.mutant("no-backoff", "reconnects 2.5 ms after a loss, every time") {
            $0.initialBackoff = .microseconds(2_500)
            $0.maximumBackoff = .microseconds(2_500)
            $0.backoffMultiplier = 1
        },
        Self.mutant("backoff-uncapped", "each wait ten times the last, with no ceiling") {
            $0.backoffMultiplier = 10
            $0.maximumBackoff = .seconds(86_400)
        },
        Self.mutant("never-reprobes", "once polling, never tries WebSocket again") { $0.probeInterval = nil },
        Self.mutant("probes-eagerly", "while polling, tries WebSocket every 10 ms") {
            $0.probeInterval = .milliseconds(10)
        },
        Self.mutant("never-falls-back", "WebSocket only: retries it for ever, never polls") {
            $0.transports = [.websocket]
        },
        Self.mutant("falls-back-at-once", "polls on the first loss instead of reconnecting") {
            $0.reconnectAttempts = 0
        },
        Self.mutant("polls-without-delay", "polls again 2.5 ms after each answer") {
            $0.pollInterval = .microseconds(2_500)
        },
        Self.mutant("heartbeat-too-short", "treats 200 ms of silence as a dead link") {
            $0.heartbeatTimeout = .milliseconds(200)
        },
        Self.mutant("no-connect-timeout", "waits a day for a connection to open") {
            $0.connectTimeout = .seconds(86_400)
        },
        Self.mutant("no-request-timeout", "waits a day for a poll's answer") { $0.requestTimeout = .seconds(86_400) },
        Self.mutant("no-state-sync", "after a reconnect, fetches nothing to fill a gap") { $0.stateSync = false },
        Self.mutant("resumes-from-zero", "reconnects without lastSeq (the server replays everything; dedup drops it)") {
            $0.resume = false
        },
        Self.mutant("gives-up-on-restart", "a 1012 close (server restart) ends its job as failed") {
            $0.defect = .givesUpOnRestart
        },
        Self.mutant("stops-after-retries", "stops (job failed) when its reconnect tries are spent instead of polling") {
            $0.defect = .stopsAfterRetries
        },
        Self.mutant("forgets-attempts", "counts every loss as the first: retries for ever, never polls") {
            $0.defect = .forgetsAttempts
        },
        Self.mutant("state-sync-skips-dedup", "delivers a state sync's messages without dropping those it had") {
            $0.defect = .stateSyncSkipsDeduplication
        },
    ]

    /// `resilient` named `mutant-NAME`, changed by `change`; `summary` says what it gets wrong.
    private static func mutant(
        _ name: String,
        _ summary: String,
        _ change: (inout ClientStrategy) -> Void
    ) -> ClientStrategy {
        var strategy = ClientStrategy.resilient
        strategy.name = "mutant-" + name
        strategy.summary = summary
        change(&strategy)
        return strategy
    }
}
