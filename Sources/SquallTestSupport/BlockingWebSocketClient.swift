import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import SquallBenchmarks

/// A blocking HTTP/WebSocket client for tests, speaking through NIO's own encoders and decoders over a
/// ``BlockingSocket``, so tests see exactly what a real client would (statuses, frames, close codes, silence).
public final class BlockingWebSocketClient: @unchecked Sendable {
    // @unchecked: used by one test thread at a time; the embedded channels are never shared.

    /// What the client observed.
    public enum Event: Equatable, Sendable {
        /// A text frame.
        case text(String)
        /// A ping frame.
        case ping
        /// A pong frame.
        case pong
        /// A close frame with its code.
        case close(code: Int)
        /// The TCP connection ended normally (FIN).
        case endOfFile
        /// The TCP connection was reset.
        case reset
        /// Nothing arrived in time.
        case timedOut
    }

    /// The socket underneath.
    public let socket: BlockingSocket
    private let responseDecoder = EmbeddedChannel(
        handler: ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes))
    )
    private let frameDecoder = EmbeddedChannel(
        handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20))
    )
    private var leftover: [UInt8] = []

    /// Connects to `127.0.0.1:port`.
    public init(port: Int) throws {
        self.socket = try BlockingSocket(port: port)
    }

    /// Sends an HTTP/1.1 request.
    public func sendRequest(method: HTTPMethod = .GET, uri: String, headers: [(String, String)] = []) throws {
        let encoder = EmbeddedChannel(handler: HTTPRequestEncoder())
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        head.headers.add(name: "Host", value: "127.0.0.1")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        try encoder.writeOutbound(HTTPClientRequestPart.head(head))
        try encoder.writeOutbound(HTTPClientRequestPart.end(nil))
        try self.socket.send(Self.drain(encoder))
        // NIO's response decoder pairs each response with a request it saw written.
        try self.responseDecoder.writeOutbound(HTTPClientRequestPart.head(head))
        try self.responseDecoder.writeOutbound(HTTPClientRequestPart.end(nil))
        _ = try? encoder.finish()
    }

    /// Sends a WebSocket upgrade request for `uri`.
    public func sendUpgrade(uri: String = "/ws") throws {
        try self.sendRequest(
            uri: uri,
            headers: [
                ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
            ]
        )
    }

    /// Reads one HTTP response: its status and body, or nil when the connection ended or stayed silent first.
    public func readResponse(timeout: Double = 5) -> (status: Int, body: String)? {
        var status: Int?
        var body = ByteBuffer()
        while true {
            while let part = try? self.responseDecoder.readInbound(as: HTTPClientResponsePart.self) {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(var chunk): body.writeBuffer(&chunk)
                case .end:
                    if let status { return (status, String(buffer: body)) }
                }
                if status == 101 {
                    return (101, "")
                }
            }
            guard case .data(let bytes) = self.socket.read(timeout: timeout) else { return nil }
            _ = try? self.responseDecoder.writeInbound(ByteBuffer(bytes: bytes))
        }
    }

    /// Completes an upgrade: sends the request and returns the response status (101 on success).
    public func upgrade(uri: String = "/ws", timeout: Double = 5) throws -> Int? {
        try self.sendUpgrade(uri: uri)
        guard let (status, _) = self.readResponse(timeout: timeout) else { return nil }
        if status == 101,
            let handler = try? self.responseDecoder.pipeline.syncOperations.handler(
                type: ByteToMessageHandler<HTTPResponseDecoder>.self
            )
        {
            self.responseDecoder.pipeline.syncOperations.removeHandler(handler, promise: nil)
            self.responseDecoder.embeddedEventLoop.run()
            while let extra = try? self.responseDecoder.readInbound(as: ByteBuffer.self) {
                self.leftover += Array(extra.readableBytesView)
            }
        }
        return status
    }

    /// Sends a masked frame, as a client must.
    public func send(_ opcode: WebSocketOpcode, _ text: String = "") throws {
        try self.send(WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: ByteBuffer(string: text)))
    }

    /// Sends `frame` as it is, even when it breaks the protocol (unmasked, reserved bits or opcodes).
    public func send(_ frame: WebSocketFrame) throws {
        let encoder = EmbeddedChannel(handler: WebSocketFrameEncoder())
        try encoder.writeOutbound(frame)
        try self.socket.send(Self.drain(encoder, asIOData: false))
        _ = try? encoder.finish()
    }

    /// Waits up to `timeout` seconds for the next frame or the end of the connection.
    public func nextEvent(timeout: Double = 5) -> Event {
        if !self.leftover.isEmpty {
            _ = try? self.frameDecoder.writeInbound(ByteBuffer(bytes: self.leftover))
            self.leftover = []
        }
        while true {
            if let frame = try? self.frameDecoder.readInbound(as: WebSocketFrame.self) {
                switch frame.opcode {
                case .text: return .text(String(buffer: frame.unmaskedData))
                case .ping: return .ping
                case .pong: return .pong
                case .connectionClose:
                    var data = frame.unmaskedData
                    return .close(code: Int(data.readInteger(as: UInt16.self) ?? 1005))
                default: continue
                }
            }
            switch self.socket.read(timeout: timeout) {
            case .data(let bytes): _ = try? self.frameDecoder.writeInbound(ByteBuffer(bytes: bytes))
            case .endOfFile: return .endOfFile
            case .reset: return .reset
            case .timedOut: return .timedOut
            }
        }
    }

    /// What an encoder wrote: NIO's HTTP encoders write `IOData`, its frame encoder `ByteBuffer`.
    private static func drain(_ channel: EmbeddedChannel, asIOData: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        if asIOData {
            while let part = try? channel.readOutbound(as: IOData.self) {
                if case .byteBuffer(let buffer) = part { bytes += Array(buffer.readableBytesView) }
            }
        } else {
            while let part = try? channel.readOutbound(as: ByteBuffer.self) {
                bytes += Array(part.readableBytesView)
            }
        }
        return bytes
    }
}
