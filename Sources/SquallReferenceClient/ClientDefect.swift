/// A deliberate bug in the hybrid client's state machine, for mutants (``ClientStrategy/mutants``) that prove
/// `squall explore` finds what a real client gets wrong. Each is a named, documented deviation a strategy opts into;
/// no preset a user runs has one.
public enum ClientDefect: String, Sendable, Hashable, CaseIterable {
    /// A WebSocket closed with 1012 (server restart) ends the client's job as failed instead of reconnecting.
    case givesUpOnRestart = "gives-up-on-restart"
    /// When the reconnect tries are spent, the client stops (job failed) instead of stepping down the ladder.
    case stopsAfterRetries = "stops-after-retries"
    /// Every loss counts as the first: the client retries at its first backoff for ever and never steps down.
    case forgetsAttempts = "forgets-attempts"
    /// Messages a state sync fetches are delivered without checking what was already delivered.
    case stateSyncSkipsDeduplication = "state-sync-skips-dedup"
}
