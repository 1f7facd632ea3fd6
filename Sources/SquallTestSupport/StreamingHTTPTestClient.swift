import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP/1.1 client for streaming answers in tests (an event stream that never ends on its own): it sends one
/// request to `127.0.0.1:port` with NIO's encoder and records the answer as NIO's decoder reads it, part by part,
/// so a test can wait for what has arrived so far.
public final class StreamingHTTPTestClient: Sendable {
    /// What has arrived.
    public struct Received: Sendable {
        /// The answer's status, once its head arrived.
        public var status: Int?
        /// The answer's headers, names lower-cased.
        public var headers: [String: String] = [:]
        /// The body's bytes so far (after any chunked framing was taken off).
        public var body: [UInt8] = []
        /// Whether the answer ended (its last chunk, or the end of a body without length).
        public var ended = false
        /// Whether the connection is closed.
        public var closed = false
        /// The body as text.
        public var text: String { String(decoding: self.body, as: UTF8.self) }
    }

    private let channel: any Channel
    private let recorder: Recorder

    private init(channel: any Channel, recorder: Recorder) {
        self.channel = channel
        self.recorder = recorder
    }

    /// What has arrived so far.
    public var received: Received { self.recorder.state.withLock { $0 } }

    /// Connects and sends `GET path` with `headers`.
    public static func get(
        port: Int,
        _ path: String,
        headers: [(String, String)] = []
    ) async throws -> StreamingHTTPTestClient {
        let recorder = Recorder()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(recorder)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        return StreamingHTTPTestClient(channel: channel, recorder: recorder)
    }

    /// Closes the connection.
    public func close() async {
        try? await self.channel.close()
    }

    /// Records the answer's parts.
    private final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPClientResponsePart

        let state = Mutex(Received())

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let part = self.unwrapInboundIn(data)
            self.state.withLock { state in
                switch part {
                case .head(let head):
                    state.status = Int(head.status.code)
                    for (name, value) in head.headers { state.headers[name.lowercased()] = value }
                case .body(let buffer):
                    state.body += buffer.readableBytesView
                case .end:
                    state.ended = true
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.state.withLock { $0.closed = true }
            context.fireChannelInactive()
        }
    }
}
