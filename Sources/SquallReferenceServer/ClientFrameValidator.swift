import NIOCore
import NIOWebSocket

/// Enforces what RFC 6455 asks of a client's frames, which NIO's decoder leaves to the application: every frame
/// masked (§5.1), no reserved bit without an extension (§5.2), no reserved opcode (§5.2), and a close frame either
/// empty or carrying a code a peer may send (§7.4) — not a single byte (§5.5.1).
///
/// A violating frame is not passed on: the server answers with a close frame carrying 1002 (protocol error) and
/// closes the connection, and the session sees the error.
final class ClientFrameValidator: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// The client broke RFC 6455; the reason is in the close frame sent back.
    struct ProtocolViolation: Error, CustomStringConvertible {
        /// What the client did.
        var reason: String

        var description: String {
            "protocol violation: \(self.reason)"
        }
    }

    private var violated = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.violated else { return }
        let frame = self.unwrapInboundIn(data)
        guard let reason = Self.violation(in: frame) else {
            context.fireChannelRead(data)
            return
        }
        self.violated = true
        // Told first: the write below may complete and close the channel at once, ending the stream without it.
        context.fireErrorCaught(ProtocolViolation(reason: reason))
        var body = ByteBuffer()
        body.write(webSocketErrorCode: .protocolError)
        body.writeString(reason)
        let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: body)
        context.writeAndFlush(self.wrapOutboundOut(close)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// What is wrong with a client frame, if anything.
    static func violation(in frame: WebSocketFrame) -> String? {
        if frame.maskKey == nil { return "client frames must be masked" }
        if frame.rsv1 || frame.rsv2 || frame.rsv3 { return "reserved bits set without an extension" }
        switch frame.opcode {
        case .continuation, .text, .binary, .ping, .pong:
            return nil
        case .connectionClose:
            var data = frame.unmaskedData
            if data.readableBytes == 0 { return nil }
            guard data.readableBytes >= 2, let code = data.readInteger(as: UInt16.self) else {
                return "a close frame body of one byte"
            }
            let sendable = (1000...1003).contains(code) || (1007...1014).contains(code) || (3000...4999).contains(code)
            return sendable ? nil : "close code \(code) may not be sent"
        default:
            return "reserved opcode \(frame.opcode)"
        }
    }
}

@available(*, unavailable)
extension ClientFrameValidator: Sendable {}
