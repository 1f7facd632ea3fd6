import NIOCore
import NIOPosix
import SquallServices
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small real TCP server on 127.0.0.1 for tests and benchmarks, with a chosen behaviour.
///
/// It binds port 0 and reports the port it got, so tests never collide.
public final class LoopbackServer: Sendable {
    /// What the server does with each connection.
    public enum Behavior: Sendable {
        /// Writes back every byte; on the client's FIN, finishes writing and sends its own FIN.
        case echo
        /// Writes `count` bytes of `fill` at once on accept, then keeps the connection open.
        case send(count: Int, fill: UInt8 = 0x61)
        /// Reads everything until the client's FIN, then answers with `reply` and closes.
        case replyAfterEOF(reply: [UInt8])
        /// Reads and discards everything.
        case discard
        /// Resets (RST) a connection as soon as its first bytes arrive.
        case reset
        /// Answers the first bytes (a request) with a chunked `text/event-stream` of `events` events of about 100
        /// bytes, `perWrite` of them to a chunk and a write, then its last chunk, and closes.
        case eventStream(events: Int, perWrite: Int)
    }

    /// The bound port.
    public let port: Int
    private let channel: any Channel
    private let connections: ConnectionRegistry
    private let accepted: AcceptCounter

    /// Connections accepted so far.
    public var acceptedConnections: Int {
        self.accepted.count.load(ordering: .relaxed)
    }

    private init(channel: any Channel, accepted: AcceptCounter, connections: ConnectionRegistry) {
        self.channel = channel
        self.connections = connections
        self.port = channel.localAddress!.port!
        self.accepted = accepted
    }

    /// Starts a server on `127.0.0.1:port` (0: a free port).
    public static func start(_ behavior: Behavior, port: Int = 0) async throws -> LoopbackServer {
        let accepted = AcceptCounter()
        let connections = ConnectionRegistry()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                accepted.count.add(1, ordering: .relaxed)
                return channel.eventLoop.makeCompletedFuture {
                    connections.register(channel)
                    try channel.pipeline.syncOperations.addHandler(BehaviorHandler(behavior: behavior))
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        return LoopbackServer(channel: channel, accepted: accepted, connections: connections)
    }

    /// Serves until the calling task is cancelled, then stops (the `run()` shape every Squall server has).
    public func run() async {
        let (cancelled, cancel) = AsyncStream<Void>.makeStream()
        await withTaskCancellationHandler {
            for await _ in cancelled {}
        } onCancel: {
            cancel.finish()
        }
        await self.stop()
    }

    /// Stops listening and closes every connection it accepted.
    public func stop() async {
        try? await self.channel.close()
        self.connections.closeAll()
    }
}

private final class BehaviorHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let behavior: LoopbackServer.Behavior

    init(behavior: LoopbackServer.Behavior) {
        self.behavior = behavior
    }

    func channelActive(context: ChannelHandlerContext) {
        if case .send(let count, let fill) = self.behavior {
            let buffer = ByteBuffer(repeating: fill, count: count)
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.behavior {
        case .echo:
            context.write(data, promise: nil)
        case .reset:
            let channel = context.channel
            _ = (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            channel.close(promise: nil)
        case .eventStream(let events, let perWrite):
            guard !self.answered else { return }
            self.answered = true
            Self.writeEventStream(events: events, perWrite: perWrite, context: context)
        case .send, .replyAfterEOF, .discard:
            break
        }
    }

    /// Whether an event stream was answered on this connection.
    private var answered = false

    /// One event: `id: N`, a JSON-sized `data:` line and the blank line (about 100 bytes).
    static func event(_ number: Int) -> String {
        "id: \(number)\ndata: {\"type\":\"progress\",\"seq\":\(number),\"data\":{\"status\":\"Processing the next item\"}}\n\n"
    }

    private static func writeEventStream(events: Int, perWrite: Int, context: ChannelHandlerContext) {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n"
        context.write(NIOAny(ByteBuffer(string: head)), promise: nil)
        var number = 1
        while number <= events {
            let last = min(events, number + perWrite - 1)
            let body = (number...last).map(Self.event).joined()
            var chunk = ByteBuffer()
            chunk.writeString(String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n")
            context.write(NIOAny(chunk), promise: nil)
            number = last + 1
        }
        let channel = context.channel
        context.writeAndFlush(NIOAny(ByteBuffer(string: "0\r\n\r\n"))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else { return }
        switch self.behavior {
        case .echo:
            context.flush()
            context.close(mode: .output, promise: nil)
        case .replyAfterEOF(let reply):
            let channel = context.channel
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: reply))).whenComplete { _ in
                channel.close(promise: nil)
            }
        case .send, .discard, .reset:
            context.close(promise: nil)
        case .eventStream:
            // The client finished sending; the stream goes on until it is written.
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

private final class AcceptCounter: Sendable {
    let count = Atomic<Int>(0)
}
