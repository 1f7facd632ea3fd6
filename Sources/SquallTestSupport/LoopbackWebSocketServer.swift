import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// A real NIO HTTP + WebSocket server on 127.0.0.1 for protocol-fault tests.
///
/// Plain HTTP requests get `200` with body `ok <n>` (keep-alive), numbered across the server. `GET` with an
/// `Upgrade: websocket` header is upgraded by NIO's upgrader. On the WebSocket it echoes text frames, answers pings
/// with pongs, and obeys two commands: text `send:N` makes it send N text frames `m1`…`mN`, and `ping` makes it
/// send a ping frame. `Upgrade: x-echo` switches to a protocol that is not WebSocket: it echoes raw bytes
/// (``EchoProtocolUpgrader``). Every request head it sees is recorded.
public final class LoopbackWebSocketServer: Sendable {
    /// The bound port.
    public let port: Int
    private let channel: any Channel
    private let log: RequestLog

    /// A request the server saw.
    public struct SeenRequest: Sendable {
        /// Method, e.g. `GET`.
        public var method: String
        /// Request target.
        public var uri: String
        /// Header names and values as received.
        public var headers: [(String, String)]
        /// Whether NIO's upgrader accepted it.
        public var upgraded: Bool

        /// The values of a header, case-insensitively.
        public func header(_ name: String) -> [String] {
            self.headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
        }
    }

    private init(channel: any Channel, log: RequestLog) {
        self.channel = channel
        self.port = channel.localAddress!.port!
        self.log = log
    }

    /// Every request seen so far, in order.
    public var requests: [SeenRequest] {
        self.log.entries.withLock { $0 }
    }

    /// Starts a server on a free port.
    public static func start() async throws -> LoopbackWebSocketServer {
        let log = RequestLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    shouldUpgrade: { channel, head in
                        log.record(head, upgraded: true)
                        return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                    },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(WebSocketBehaviorHandler())
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    let httpHandler = PlainHTTPHandler(log: log)
                    let boundHandler = NIOLoopBound(httpHandler, eventLoop: channel.eventLoop)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [upgrader, EchoProtocolUpgrader()],
                            completionHandler: { context in
                                context.pipeline.syncOperations.removeHandler(boundHandler.value, promise: nil)
                            }
                        )
                    )
                    try channel.pipeline.syncOperations.addHandler(httpHandler)
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return LoopbackWebSocketServer(channel: channel, log: log)
    }

    /// Stops listening.
    public func stop() async {
        try? await self.channel.close()
    }
}

private final class RequestLog: Sendable {
    let entries = Mutex<[LoopbackWebSocketServer.SeenRequest]>([])
    let plainCount = Atomic<Int>(0)

    func record(_ head: HTTPRequestHead, upgraded: Bool) {
        let seen = LoopbackWebSocketServer.SeenRequest(
            method: head.method.rawValue,
            uri: head.uri,
            headers: head.headers.map { ($0.name, $0.value) },
            upgraded: upgraded
        )
        self.entries.withLock { $0.append(seen) }
    }
}

private final class PlainHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let log: RequestLog
    private var head: HTTPRequestHead?

    init(log: RequestLog) {
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.log.record(head, upgraded: false)
            let number = self.log.plainCount.add(1, ordering: .relaxed).newValue
            let body = ByteBuffer(string: "ok \(number)")
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            headers.add(name: "Connection", value: head.isKeepAlive ? "keep-alive" : "close")
            context.write(
                self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))),
                promise: nil
            )
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let keepAlive = head.isKeepAlive
            let channel = context.channel
            context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }
}

private final class WebSocketBehaviorHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            let text = String(buffer: frame.unmaskedData)
            if text.hasPrefix("send:"), let count = Int(text.dropFirst(5)) {
                for index in 1...max(1, count) {
                    context.write(
                        self.wrapOutboundOut(
                            WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "m\(index)"))
                        ),
                        promise: nil
                    )
                }
                context.flush()
            } else if text == "ping" {
                context.writeAndFlush(
                    self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "srv"))),
                    promise: nil
                )
            } else {
                context.writeAndFlush(
                    self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: frame.unmaskedData)),
                    promise: nil
                )
            }
        case .ping:
            context.writeAndFlush(
                self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)),
                promise: nil
            )
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readSlice(length: 2) ?? ByteBuffer()
            let channel = context.channel
            context.writeAndFlush(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)))
                .whenComplete { _ in
                    channel.close(promise: nil)
                }
        default:
            break
        }
    }
}
