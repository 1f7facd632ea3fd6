import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import SquallReferenceProtocol
import SquallServices
import Synchronization

/// Opens the job's progress WebSocket (`GET /ws/progress?jobId=…` with the bearer token), bounded by the connect
/// timeout from the TCP connect to the upgrade's answer.
struct ProgressWebSocket: Sendable {
    /// What opening came to.
    enum Opening: Sendable {
        /// Upgraded: frames flow.
        case opened(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        /// Not opened, and why (`upgrade rejected: HTTP 403`, `connection refused`, `upgrade timed out`).
        case failed(reason: FailureReason)
    }

    private enum Negotiated: Sendable {
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused(NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>)
    }

    /// The server.
    let server: ServerAddress
    /// The job's bearer token.
    let token: String
    /// The bound on connect plus upgrade.
    let timeout: Duration
    /// The loops to run on.
    let eventLoopGroup: any EventLoopGroup
    /// Told each connection's local port, when set.
    var sourcePorts: SourcePortObserver? = nil

    /// Opens the stream for `jobId`.
    func open(jobId: String) async -> Opening {
        let timedOut = Atomic(false)
        var requestHeaders = HTTPHeaders()
        requestHeaders.add(name: "Host", value: self.server.hostHeader)
        requestHeaders.add(name: "Authorization", value: "Bearer \(self.token)")
        let requestHead = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: self.server.progressTarget(jobId: jobId),
            headers: requestHeaders
        )
        do {
            let negotiation = try await ClientBootstrap(group: self.eventLoopGroup)
                .connectTimeout(TimeAmount(self.timeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(to: self.server) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try self.sourcePorts?.observe(channel)
                        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(self.timeout)) {
                            timedOut.store(true, ordering: .relaxed)
                            channel.close(promise: nil)
                        }
                        let upgrader = NIOTypedWebSocketClientUpgrader<Negotiated>(
                            maxFrameSize: 1 << 20,
                            upgradePipelineHandler: { channel, _ in
                                deadline.cancel()
                                return channel.eventLoop.makeCompletedFuture {
                                    try channel.pipeline.syncOperations.addHandler(
                                        NIOWebSocketFrameAggregator(
                                            minNonFinalFragmentSize: 0,
                                            maxAccumulatedFrameCount: 64,
                                            maxAccumulatedFrameSize: 1 << 22
                                        )
                                    )
                                    return .upgraded(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                                }
                            }
                        )
                        let configuration = NIOTypedHTTPClientUpgradeConfiguration<Negotiated>(
                            upgradeRequestHead: requestHead,
                            upgraders: [upgrader],
                            notUpgradingCompletionHandler: { channel in
                                deadline.cancel()
                                return channel.eventLoop.makeCompletedFuture {
                                    .refused(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                                }
                            }
                        )
                        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                            configuration: NIOUpgradableHTTPClientPipelineConfiguration(
                                upgradeConfiguration: configuration
                            )
                        )
                    }
                }
            switch try await negotiation.get() {
            case .upgraded(let channel):
                return .opened(channel)
            case .refused(let channel):
                return .failed(reason: await Self.refusal(channel))
            }
        } catch {
            if timedOut.load(ordering: .relaxed) { return .failed(reason: .upgradeTimedOut) }
            if error is NIOHTTPClientUpgradeError { return .failed(reason: .other("upgrade failed: \(error)")) }
            // The connect timeout is the upgrade's: one bound from the connect to the 101.
            let reason = FailureReason(error)
            return .failed(reason: reason == .requestTimedOut ? .upgradeTimedOut : reason)
        }
    }

    /// Reads the refusal's status (and error code, when the body is the server's JSON error).
    private static func refusal(
        _ channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    ) async -> FailureReason {
        let answer = try? await channel.executeThenClose { inbound, _ -> FailureReason in
            var status: HTTPResponseStatus?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let head): status = head.status
                case .body(let chunk) where body.count < 4_096: body += chunk.readableBytesView
                case .body: continue
                case .end: break
                }
                if case .end = part { break }
            }
            return FailureReason.upgradeRejected(status: status.map { Int($0.code) }, body: body)
        }
        return answer ?? .upgradeRejected(status: nil, error: nil)
    }
}
