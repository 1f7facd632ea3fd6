/// A snapshot of one live proxied connection, for listings and the control API.
public struct ProxyConnectionInfo: Sendable, Hashable {
    /// The connection's serial number within its proxy, starting at 1.
    public var id: UInt64
    /// The client's address as `host:port`.
    public var clientAddress: String
    /// When the connection was accepted, in milliseconds since the Unix epoch.
    public var openedAtMilliseconds: Int64
    /// Bytes read from the client so far.
    public var bytesFromClient: Int
    /// Bytes written to the server so far.
    public var bytesToServer: Int
    /// Bytes read from the server so far.
    public var bytesFromServer: Int
    /// Bytes written to the client so far.
    public var bytesToClient: Int
    /// The client that opened the connection (`group-n`), when it reported its port; nil otherwise.
    public var client: String?
    /// The names of the proxy's faults whose toxicity draw chose this connection.
    public var activeFaults: [String]
}
