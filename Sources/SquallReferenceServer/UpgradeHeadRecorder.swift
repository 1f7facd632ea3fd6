import NIOCore
import NIOHTTP1

/// Remembers the head of a request that asks for an upgrade, before NIO's upgrade handler takes it.
///
/// NIO does not hand a request it declined to upgrade on to the HTTP side (apple/swift-nio#2632) — an upgrade to a
/// protocol nobody serves (`Upgrade: h2c`), or a WebSocket upgrade NIO found malformed (no key, version 99) — so
/// without this the request would never be answered. The server answers it from the recorded head.
final class UpgradeHeadRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    /// Its name in the pipeline, so a successful upgrade can remove it.
    static let name = "squall.upgrade-head-recorder"

    private let head: NIOLoopBoundBox<HTTPRequestHead?>

    /// Creates a recorder writing into `head`.
    init(head: NIOLoopBoundBox<HTTPRequestHead?>) {
        self.head = head
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = self.unwrapInboundIn(data), head.headers.contains(name: "Upgrade") {
            self.head.value = head
        }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension UpgradeHeadRecorder: Sendable {}
