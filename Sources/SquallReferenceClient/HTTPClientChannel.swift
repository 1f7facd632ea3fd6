import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP/1.1 client connection to the server as the reference client opens one for a request (a job-state fetch,
/// an event stream): within the connect timeout, without Nagle's delay, its local port told to the observer, NIO's
/// encoder and decoder in the pipeline.
enum HTTPClientChannel {
    /// Connects to `server`.
    static func connect(
        to server: ServerAddress,
        timeout: Duration,
        eventLoopGroup: any EventLoopGroup,
        sourcePorts: SourcePortObserver?
    ) async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(to: server) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try sourcePorts?.observe(channel)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
    }
}
