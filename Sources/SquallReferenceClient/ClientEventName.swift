/// The names of the client event contract: what the reference client reports and what an external client writes,
/// one NDJSON object per line. The run's progress board, its metrics and the external-client reader all switch
/// over this one vocabulary, so a renamed event cannot silently zero a metric.
public enum ClientEventName: String, Sendable, Hashable, CaseIterable {
    /// A WebSocket connect attempt began.
    case connectAttempt = "connect_attempt"
    /// The WebSocket opened.
    case connected
    /// A connect attempt failed.
    case connectFailed = "connect_failed"
    /// An open WebSocket closed.
    case closed
    /// A reconnect was scheduled.
    case reconnectAttempt = "reconnect_attempt"
    /// The client fell back to polling.
    case fallback
    /// The client moved to the next push transport of its ladder.
    case steppedDown = "stepped_down"
    /// A poll of the job state.
    case poll
    /// A state sync after (re)connecting.
    case stateSync = "state_sync"
    /// Back on WebSocket after polling.
    case recovered
    /// A message was delivered to the app.
    case delivered
    /// A duplicate was dropped before the app saw it.
    case duplicateDropped = "duplicate_dropped"
    /// The job ended for this client.
    case finished
    /// The client was stopped before its job ended.
    case stopped
    /// The app was frozen (background suspension).
    case suspended
    /// The app runs again.
    case resumed
}
