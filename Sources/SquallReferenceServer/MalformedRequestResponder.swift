import NIOCore
import NIOHTTP1

/// Answers a request NIO's parser cannot read with a 400 carrying the same JSON error body as every other error,
/// `Connection: close`, then closes — NIO's `HTTPServerProtocolErrorHandler` with Squall's body (NIO's has none).
///
/// As NIO's, it answers only when no response has started (a half-written response cannot be followed by another),
/// and it does not pass the error on: the connection is over, and nothing downstream should answer it again. It speaks
/// HTTP only, so it leaves the pipeline when the connection becomes a WebSocket.
final class MalformedRequestResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Its name in the pipeline, by which it is removed once the connection is upgraded to WebSocket.
    static let name = "squall.malformed-request-responder"

    private var responseInProgress = false
    private var answered = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !self.answered else { return }
        self.answered = true
        guard !self.responseInProgress else {
            context.close(promise: nil)
            return
        }
        let parts = ReferenceServer.parts(
            of: ReferenceResponse.error(.badRequest("malformed HTTP request")),
            version: .http1_1,
            keepAlive: false
        )
        for part in parts.dropLast() {
            context.write(self.wrapOutboundOut(part), promise: nil)
        }
        context.writeAndFlush(self.wrapOutboundOut(parts.last!)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            self.responseInProgress = true
        case .end:
            self.responseInProgress = false
        case .head, .body:
            break
        }
        context.write(data, promise: promise)
    }
}

@available(*, unavailable)
extension MalformedRequestResponder: Sendable {}
