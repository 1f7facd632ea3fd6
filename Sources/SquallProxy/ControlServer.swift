import NIOCore
import NIOHTTP1
import NIOPosix
import SquallServices
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
    /// Open connections from the moment they are accepted, so ``close()`` ends them (idle keep-alive ones, or one
    /// that never sent a byte) instead of waiting for their clients.
    private let connections: ConnectionRegistry
    /// Where the server is in its lifecycle (the reference server's shape: initial → running → shuttingDown →
    /// shutdown).
    private let lifecycle = ServerLifecycle()
    /// Connections with a request in progress (head read, answer not yet written): the ones a shutdown waits for.
    private let busy = Mutex<Set<ObjectIdentifier>>([])

    /// How long ``close()`` lets a request in progress finish before closing its connection; connections between
    /// requests are closed at once.
    package static let drainDeadline = Duration.milliseconds(500)
    /// How much of an oversized body is read and thrown away after its 413, before the connection is cut.
    static let discardLimit = 16 << 20
    /// How long a connection may stay silent before it is closed.
    package static let idleTimeout = TimeAmount.seconds(30)

    private init(listener: NIOAsyncChannel<Connection, Never>, router: ControlRouter, connections: ConnectionRegistry) {
        self.listener = listener
        self.localAddress = listener.channel.localAddress!
        self.router = router
        self.connections = connections
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
        let connections = ConnectionRegistry()
        let listener = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    connections.register(channel)
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        return ControlServer(listener: listener, router: router, connections: connections)
    }

    /// Serves connections until ``close()`` is called or the task running it is cancelled (the swift-service-lifecycle
    /// `run()` shape: cancellation closes the listener, gives answers in progress ``drainDeadline``, closes every
    /// connection, then it returns). A second call returns at once.
    package func run() async {
        guard self.lifecycle.run() == .serve else { return }
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

    /// Stops accepting connections, gives answers in progress ``drainDeadline``, then closes every connection;
    /// ``run()`` then returns. Returns once all of that is done, however many times it is called.
    package func close() async {
        await self.lifecycle.shutDown(
            listener: self.listener.channel,
            connections: self.connections,
            drainDeadline: Self.drainDeadline,
            isIdle: { channel in !self.busy.withLock { $0.contains(ObjectIdentifier(channel)) } }
        )
    }

    private func serve(_ connection: Connection) async {
        let key = ObjectIdentifier(connection.channel)
        defer { self.busy.withLock { _ = $0.remove(key) } }
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            var tooLarge = false
            /// Bytes of an oversized body thrown away.
            var discarded = 0
            /// Whether the 413 went out already (from the announced length).
            var answered = false
            let tooLargeResponse = ControlResponse.error(
                .payloadTooLarge,
                "request body larger than \(ControlRouter.maximumBodySize) bytes"
            )
            do {
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        self.busy.withLock { _ = $0.insert(key) }
                        head = requestHead
                        body.clear()
                        tooLarge = false
                        answered = false
                        discarded = 0
                        // Refused from the announced length, before any of the body is read. The body is then read
                        // and thrown away (bounded), so the client gets the 413 rather than a reset for unread data.
                        if let length = requestHead.headers.first(name: "Content-Length").flatMap(Int.init),
                            length > ControlRouter.maximumBodySize
                        {
                            tooLarge = true
                            answered = true
                            try await Self.write(
                                tooLargeResponse,
                                version: requestHead.version,
                                keepAlive: false,
                                to: outbound
                            )
                        }
                    case .body(var chunk):
                        if tooLarge {
                            discarded += chunk.readableBytes
                            if discarded > Self.discardLimit { return }
                        } else if body.readableBytes + chunk.readableBytes > ControlRouter.maximumBodySize {
                            tooLarge = true
                            body.clear()
                        } else {
                            body.writeBuffer(&chunk)
                        }
                    case .end:
                        guard let requestHead = head else { continue }
                        if tooLarge {
                            if !answered {
                                // A body without a length (chunked) that grew past the limit.
                                try await Self.write(
                                    tooLargeResponse,
                                    version: requestHead.version,
                                    keepAlive: false,
                                    to: outbound
                                )
                            }
                            return
                        }
                        let response = await self.router.respond(
                            to: ControlRequest(
                                method: requestHead.method,
                                uri: requestHead.uri,
                                headers: requestHead.headers,
                                body: body
                            )
                        )
                        let keepAlive = requestHead.isKeepAlive
                        try await Self.write(response, version: requestHead.version, keepAlive: keepAlive, to: outbound)
                        self.busy.withLock { _ = $0.remove(key) }
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
