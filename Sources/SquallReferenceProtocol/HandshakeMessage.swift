/// The WebSocket handshake of the progress protocol: the client's `ready` (with the last `seq` it has, 0 the first
/// time) and the server's `ready_ack`, after which the server sends every message after `lastSeq`, then live ones.
public struct HandshakeMessage: Codable, Sendable, Hashable {
    /// `ready` from the client, `ready_ack` from the server.
    public var type: Kind
    /// The last `seq` the client has delivered.
    public var lastSeq: Int
    /// The job, in `ready_ack`.
    public var jobId: String?

    /// The two handshake messages.
    public enum Kind: String, Codable, Sendable, Hashable {
        /// Client → server.
        case ready
        /// Server → client.
        case readyAck = "ready_ack"
    }

    /// A client's `ready`.
    public static func ready(lastSeq: Int) -> HandshakeMessage {
        HandshakeMessage(type: .ready, lastSeq: lastSeq, jobId: nil)
    }

    /// A server's `ready_ack`.
    public static func readyAck(jobId: String, lastSeq: Int) -> HandshakeMessage {
        HandshakeMessage(type: .readyAck, lastSeq: lastSeq, jobId: jobId)
    }
}
