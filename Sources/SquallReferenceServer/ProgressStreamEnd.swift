/// Why the server ends a progress stream while its job still runs.
package enum ProgressStreamEnd: Sendable, Hashable {
    /// The server is shutting down (close 1001).
    case shutdown
    /// The WebSocket side restarts (close 1012); clients should reconnect.
    case restart
}
