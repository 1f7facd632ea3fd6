import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The control API over HTTP/1.1 (Toxiproxy's port 8474 by default), built on NIOHTTP1.
///
/// One accept loop in a discarding task group; each connection reads whole requests (bodies up to
/// ``ControlRouter/maximumBodySize``), asks the ``ControlRouter`` and writes the answer, with keep-alive. A malformed
/// request gets a 400 with a JSON error body; nothing a client sends can stop the listener.
package final class ControlServer: Sendable {
    private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// The address the API listens on.
    package let localAddress: SocketAddress
    private let listener: NIOAsyncChannel<Connection, Never>
    private let router: ControlRouter
    /// Open client connections, so ``close()`` can end idle keep-alive connections instead of waiting them out.
    private let openConnections = Mutex<[ObjectIdentifier: any Channel]>([:])

    private init(listener: NIOAsyncChannel<Connection, Never>, router: ControlRouter) {
        self.listener = listener
        self.localAddress = listener.channel.localAddress!
        self.router = router
    }

    /// Binds the control API; call ``run()`` to serve it.
    ///
    /// - Parameters:
    ///   - host: where to listen; `127.0.0.1` keeps it off the network.
    ///   - port: the port, 0 for a free one.
    ///   - router: answers the requests.
    package static func bind(
        host: String,
        port: Int,
        router: ControlRouter,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> ControlServer {
        let listener = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(30)))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        return ControlServer(listener: listener, router: router)
    }

    /// Serves connections until ``close()`` is called or the task running it is cancelled (the swift-service-lifecycle
    /// `run()` shape: cancellation closes the listener and every connection, then it returns).
    package func run() async {
        await withTaskCancellationHandler {
            try? await withThrowingDiscardingTaskGroup { group in
                try await self.listener.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask {
                            await self.serve(connection)
                        }
                    }
                }
            }
        } onCancel: {
            Task { await self.close() }
        }
    }

    /// Stops accepting connections; ``run()`` then returns.
    package func close() async {
        try? await self.listener.channel.close()
        let connections = self.openConnections.withLock { $0.values }
        for channel in connections {
            channel.close(promise: nil)
        }
    }

    private func serve(_ connection: Connection) async {
        let key = ObjectIdentifier(connection.channel)
        self.openConnections.withLock { $0[key] = connection.channel }
        defer { self.openConnections.withLock { _ = $0.removeValue(forKey: key) } }
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            var tooLarge = false
            do {
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body.clear()
                        tooLarge = false
                    case .body(var chunk):
                        if body.readableBytes + chunk.readableBytes > ControlRouter.maximumBodySize {
                            tooLarge = true
                        } else if !tooLarge {
                            body.writeBuffer(&chunk)
                        }
                    case .end:
                        guard let requestHead = head else { continue }
                        let response: ControlResponse
                        if tooLarge {
                            response = .error(
                                .payloadTooLarge,
                                "request body larger than \(ControlRouter.maximumBodySize) bytes"
                            )
                        } else {
                            response = await self.router.respond(
                                to: ControlRequest(
                                    method: requestHead.method,
                                    uri: requestHead.uri,
                                    headers: requestHead.headers,
                                    body: body
                                )
                            )
                        }
                        let keepAlive = requestHead.isKeepAlive && !tooLarge
                        try await Self.write(response, version: requestHead.version, keepAlive: keepAlive, to: outbound)
                        if !keepAlive { return }
                        head = nil
                    }
                }
            } catch let error as HTTPParserError {
                let response = ControlResponse.error(.badRequest, "malformed HTTP request: \(error)")
                try? await Self.write(response, version: .http1_1, keepAlive: false, to: outbound)
            }
        }
    }

    private static func write(
        _ response: ControlResponse,
        version: HTTPVersion,
        keepAlive: Bool,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = response.headers
        let body = ByteBuffer(string: response.body)
        if response.status != .noContent {
            headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
        }
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        try await outbound.write(.head(HTTPResponseHead(version: version, status: response.status, headers: headers)))
        if body.readableBytes > 0 {
            try await outbound.write(.body(.byteBuffer(body)))
        }
        try await outbound.write(.end(nil))
    }
}

/// Closes a control connection that sent nothing for the idle period, so slow or stuck clients cannot pile up.
private final class IdleConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

@available(*, unavailable)
extension IdleConnectionCloser: Sendable {}
