import NIOCore
import NIOHTTP1

/// Upgrades a connection to `x-echo`, a protocol that is not WebSocket (as `h2c` is not): after the `101` the server
/// echoes every byte it reads. For tests of what a proxy does with an upgrade it does not inspect.
public final class EchoProtocolUpgrader: HTTPServerProtocolUpgrader, Sendable {
    /// The `Upgrade` token it answers.
    public static let protocolName = "x-echo"

    public let supportedProtocol = EchoProtocolUpgrader.protocolName
    public let requiredUpgradeHeaders: [String] = []

    /// Creates the upgrader.
    public init() {}

    public func buildUpgradeResponse(
        channel: any Channel,
        upgradeRequest: HTTPRequestHead,
        initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        channel.eventLoop.makeSucceededFuture(initialResponseHeaders)
    }

    public func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        context.eventLoop.makeCompletedFuture {
            try context.pipeline.syncOperations.addHandler(EchoHandler())
        }
    }

    /// Writes back what it reads.
    private final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(data, promise: nil)
        }
    }
}
