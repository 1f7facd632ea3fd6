import NIOCore

/// One thing travelling through a direction's fault chain: a chunk of bytes or the end of the stream.
enum StreamItem {
    /// How a direction's stream ended at its source.
    enum End {
        /// The source half-closed (FIN): pass a FIN on and keep the other direction open.
        case finished
        /// The source closed completely: close the destination once the data before it is delivered.
        case closed
        /// The source was reset (RST): reset the destination.
        case reset
    }

    /// Bytes as read from the source, stamped with the time the proxy received them.
    case data(ByteBuffer, receivedAt: NIODeadline)
    /// The end of the stream.
    case end(End)

    /// The number of payload bytes.
    var byteCount: Int {
        if case .data(let buffer, _) = self {
            return buffer.readableBytes
        }
        return 0
    }
}
