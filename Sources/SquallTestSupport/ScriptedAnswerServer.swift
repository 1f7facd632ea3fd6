import NIOCore
import NIOPosix
import Synchronization

/// A loopback server that answers every request with a script of raw writes, for tests that need an answer's exact
/// bytes on the wire (an event stream chunked one way or another, a broken chunk): after a request's head
/// (everything up to its blank line) it writes each piece of `writes` on its own, flushed, `pause` apart, then
/// closes when told to. It records every request head it read.
public final class ScriptedAnswerServer: Sendable {
    /// The bound port.
    public let port: Int
    private let channel: any Channel
    private let log: HeadLog

    private init(channel: any Channel, log: HeadLog) {
        self.channel = channel
        self.port = channel.localAddress!.port!
        self.log = log
    }

    /// Every request head read so far, as text.
    public var requests: [String] {
        self.log.heads.withLock { $0 }
    }

    /// Starts a server on a free port.
    ///
    /// - Parameters:
    ///   - writes: the answer, piece by piece.
    ///   - pause: the time between pieces.
    ///   - closes: whether the server closes the connection after the last piece.
    public static func start(
        writes: [[UInt8]],
        pause: TimeAmount = .milliseconds(20),
        closes: Bool = false
    ) async throws -> ScriptedAnswerServer {
        let log = HeadLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ScriptHandler(writes: writes, pause: pause, closes: closes, log: log)
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return ScriptedAnswerServer(channel: channel, log: log)
    }

    /// Stops listening.
    public func stop() async {
        try? await self.channel.close()
    }

    /// The heads read, shared with the connections' handlers.
    fileprivate final class HeadLog: Sendable {
        let heads = Mutex<[String]>([])
    }

    fileprivate final class ScriptHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let writes: [[UInt8]]
        private let pause: TimeAmount
        private let closes: Bool
        private let log: HeadLog
        private var received: [UInt8] = []
        private var started = false

        init(writes: [[UInt8]], pause: TimeAmount, closes: Bool, log: HeadLog) {
            self.writes = writes
            self.pause = pause
            self.closes = closes
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !self.started else { return }
            self.received += self.unwrapInboundIn(data).readableBytesView
            guard let end = self.endOfHead() else { return }
            self.started = true
            let head = String(decoding: self.received[..<end], as: UTF8.self)
            self.log.heads.withLock { $0.append(head) }
            self.write(0, context: context)
        }

        private func write(_ index: Int, context: ChannelHandlerContext) {
            guard index < self.writes.count else {
                if self.closes { context.close(promise: nil) }
                return
            }
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: self.writes[index])), promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: self.pause) { [self] in
                self.write(index + 1, context: context)
            }
        }

        private func endOfHead() -> Int? {
            guard self.received.count >= 4 else { return nil }
            for index in 0...(self.received.count - 4)
            where self.received[index..<index + 4].elementsEqual([13, 10, 13, 10]) {
                return index + 4
            }
            return nil
        }
    }
}

@available(*, unavailable)
extension ScriptedAnswerServer.ScriptHandler: Sendable {}
