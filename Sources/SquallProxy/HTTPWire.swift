import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import SquallFaults

/// Encodes and decodes HTTP and WebSocket messages with NIO's own codecs, run in an `EmbeddedChannel`, so the
/// proxy never hand-writes HTTP or WebSocket framing.
enum HTTPWire {
    /// The bytes of a request, as NIO's request encoder writes it.
    static func encodeRequest(_ head: HTTPRequestHead, body: ByteBuffer?) -> ByteBuffer {
        let channel = EmbeddedChannel(handler: HTTPRequestEncoder())
        defer { _ = try? channel.finish() }
        try? channel.writeOutbound(HTTPClientRequestPart.head(head))
        if let body, body.readableBytes > 0 {
            try? channel.writeOutbound(HTTPClientRequestPart.body(.byteBuffer(body)))
        }
        try? channel.writeOutbound(HTTPClientRequestPart.end(nil))
        return Self.collectOutbound(channel)
    }

    /// The bytes of a small JSON response the proxy answers itself (a rejected upgrade, a failed request).
    static func encodeResponse(status: Int, message: String, keepAlive: Bool) -> ByteBuffer {
        let channel = EmbeddedChannel(handler: HTTPResponseEncoder())
        defer { _ = try? channel.finish() }
        let body = ByteBuffer(string: "{\"error\":\(JSONValue.quote(message)),\"status\":\(status)}\n")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        headers.add(name: "Via", value: "1.1 squall")
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        try? channel.writeOutbound(HTTPServerResponsePart.head(head))
        try? channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(body)))
        try? channel.writeOutbound(HTTPServerResponsePart.end(nil))
        return Self.collectOutbound(channel)
    }

    /// The status of a response head given as raw bytes (up to and including the blank line).
    static func responseStatus(of head: ByteBuffer) -> Int? {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
        defer { _ = try? channel.finish() }
        try? channel.writeInbound(head)
        while let part = try? channel.readInbound(as: HTTPClientResponsePart.self) {
            if case .head(let responseHead) = part {
                return Int(responseHead.status.code)
            }
        }
        return nil
    }

    /// A close frame with `code`, masked when it goes to the server as RFC 6455 requires of clients.
    static func encodeCloseFrame(code: Int, masked: Bool) -> ByteBuffer {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        defer { _ = try? channel.finish() }
        var payload = ByteBuffer()
        payload.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: code))
        let frame = WebSocketFrame(
            fin: true,
            opcode: .connectionClose,
            maskKey: masked ? WebSocketMaskingKey.random() : nil,
            data: payload
        )
        try? channel.writeOutbound(frame)
        return Self.collectOutbound(channel)
    }

    private static func collectOutbound(_ channel: EmbeddedChannel) -> ByteBuffer {
        var result = ByteBuffer()
        while let chunk = try? channel.readOutbound(as: ByteBuffer.self) {
            var chunk = chunk
            result.writeBuffer(&chunk)
        }
        while let chunk = try? channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(var buffer) = chunk {
                result.writeBuffer(&buffer)
            }
        }
        return result
    }

    /// Whether a request asks to upgrade to WebSocket.
    static func isWebSocketUpgrade(_ head: HTTPRequestHead) -> Bool {
        head.headers["Upgrade"].contains { $0.lowercased().contains("websocket") }
    }
}
