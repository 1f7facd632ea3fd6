import NIOCore
import NIOHTTP1
import NIOWebSocket

/// One thing travelling through a direction's fault chain: a chunk of bytes or the end of the stream.
enum StreamItem: Equatable {
    /// How a direction's stream ended at its source.
    enum End: Equatable {
        /// The source half-closed (FIN): pass a FIN on and keep the other direction open.
        case finished
        /// The source closed completely: close the destination once the data before it is delivered.
        case closed
        /// The source was reset (RST): reset the destination.
        case reset
    }

    /// Bytes as read from the source, stamped with the time the proxy received them, and what protocol message
    /// they are when the proxy recognised one.
    case data(ByteBuffer, receivedAt: NIODeadline, unit: ProtocolUnit = .bytes)
    /// The end of the stream.
    case end(End)

    /// The number of payload bytes.
    var byteCount: Int {
        if case .data(let buffer, _, _) = self {
            return buffer.readableBytes
        }
        return 0
    }
}

/// What a chunk of bytes is, when the proxy's protocol inspection recognised it.
enum ProtocolUnit: Equatable {
    /// Plain bytes.
    case bytes
    /// One whole HTTP request. In the message part of the upstream chain the bytes are the request's body; NIO's
    /// `HTTPRequestEncoder` in the server socket's pipeline writes head and body, and those bytes go on through the
    /// byte part.
    case request(HTTPRequestHead)
    /// The head of the server's answer to a WebSocket upgrade request.
    case upgradeResponse(status: Int)
    /// One whole WebSocket frame.
    case frame(WebSocketOpcode)
    /// One block of an event stream, framed as a chunk of its own (see ``EventStreamReframer``); `isEvent` when it
    /// dispatches an event.
    case eventBlock(isEvent: Bool)
    /// The proxy's own answer to a request (encoded already), in that request's turn; the connection closes once
    /// it is delivered when `closes`.
    case proxyAnswer(closes: Bool)
}
