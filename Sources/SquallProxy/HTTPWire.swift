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
        _ = try? channel.writeOutbound(HTTPClientRequestPart.head(head))
        if let body, body.readableBytes > 0 {
            _ = try? channel.writeOutbound(HTTPClientRequestPart.body(.byteBuffer(body)))
        }
        _ = try? channel.writeOutbound(HTTPClientRequestPart.end(nil))
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
        _ = try? channel.writeOutbound(HTTPServerResponsePart.head(head))
        _ = try? channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(body)))
        _ = try? channel.writeOutbound(HTTPServerResponsePart.end(nil))
        return Self.collectOutbound(channel)
    }

    /// The status of a response head given as raw bytes (up to and including the blank line).
    static func responseStatus(of head: ByteBuffer) -> Int? {
        let channel = EmbeddedChannel(
            handler: ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes))
        )
        defer { _ = try? channel.finish() }
        // NIO's response decoder pairs each response with a request it saw written; tell it about the GET.
        _ = try? channel.writeOutbound(
            HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/"))
        )
        _ = try? channel.readOutbound(as: HTTPClientRequestPart.self)
        _ = try? channel.writeInbound(head)
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
        _ = try? channel.writeOutbound(frame)
        return Self.collectOutbound(channel, asIOData: false)
    }

    /// Collects what an encoder wrote. NIO's HTTP encoders write `IOData`, its frame encoder `ByteBuffer`; reading
    /// the wrong type would drop an item, so the caller says which.
    private static func collectOutbound(_ channel: EmbeddedChannel, asIOData: Bool = true) -> ByteBuffer {
        var result = ByteBuffer()
        if asIOData {
            while let chunk = try? channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(var buffer) = chunk {
                    result.writeBuffer(&buffer)
                }
            }
        } else {
            while var chunk = try? channel.readOutbound(as: ByteBuffer.self) {
                result.writeBuffer(&chunk)
            }
        }
        return result
    }

    /// Whether a request asks to upgrade to WebSocket.
    static func isWebSocketUpgrade(_ head: HTTPRequestHead) -> Bool {
        head.headers["Upgrade"].contains { $0.lowercased().contains("websocket") }
    }
}
