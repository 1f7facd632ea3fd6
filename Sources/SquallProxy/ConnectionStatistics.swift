/// Live byte counters of one proxied connection, readable from any thread while the connection runs.
public final class ConnectionStatistics: Sendable {
    /// Bytes read from the client.
    public let bytesFromClient = Counter()
    /// Bytes written to the server.
    public let bytesToServer = Counter()
    /// Bytes read from the server.
    public let bytesFromServer = Counter()
    /// Bytes written to the client.
    public let bytesToClient = Counter()

    /// Creates zeroed counters.
    public init() {}
}
