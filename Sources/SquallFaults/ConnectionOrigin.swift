/// Which client opened a connection through a proxy, when the proxy knows: the client's identity in its scenario
/// (`group-n`) and the connection's ordinal among that client's connections (1 for its first).
///
/// Toxicity draws and per-connection random choices are keyed by the origin when it is known, so the same seed hits
/// the same clients' same connections in every run, whatever order the connections are accepted in.
public struct ConnectionOrigin: Sendable, Hashable {
    /// The client's identity, e.g. `web-3`.
    public var client: String
    /// The connection's ordinal among the client's connections, from 1.
    public var ordinal: Int

    /// Creates an origin.
    public init(client: String, ordinal: Int) {
        self.client = client
        self.ordinal = ordinal
    }

    /// The key random draws use: `web-3#2`.
    public var key: String {
        "\(self.client)#\(self.ordinal)"
    }
}
