import NIOCore
import NIOHTTP1
import SquallReferenceProtocol
import SquallServices
import Synchronization

/// The job's progress event stream (`GET /sse/progress?jobId=…` with the bearer token and, when resuming,
/// `Last-Event-ID`): opened within the connect timeout (from the TCP connect to the answer's head), then read block
/// by block with the standard's parser until it ends.
struct ProgressEventStream: Sendable {
    /// How the stream came to an end.
    enum Ending: Sendable, Hashable {
        /// It never opened, and why (`HTTP 503: …`, `connection refused`, `request timed out`).
        case failed(FailureReason)
        /// It was open and ended, and why (`server closed` at the response's end, `connection lost: …`).
        case closed(reason: String)
    }

    /// The server.
    let server: ServerAddress
    /// The job's bearer token.
    let token: String
    /// The bound on connect plus the answer's head.
    let timeout: Duration
    /// The loops to run on.
    let eventLoopGroup: any EventLoopGroup
    /// Told each connection's local port, when set.
    var sourcePorts: SourcePortObserver? = nil

    /// Opens the stream for `jobId`, resuming after `lastEventId` (none when nil), and reads it to its end.
    ///
    /// - Parameters:
    ///   - opened: called once the server answered 200, with what closes the stream.
    ///   - block: called with each block of the stream, in order.
    func run(
        jobId: String,
        lastEventId: String?,
        opened: (_ close: @escaping @Sendable () -> Void) -> Void,
        block: (ServerSentEventParser.Block) -> Void
    ) async -> Ending {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: self.server.hostHeader)
        headers.add(name: "Authorization", value: "Bearer \(self.token)")
        headers.add(name: "Accept", value: "text/event-stream")
        headers.add(name: "Cache-Control", value: "no-cache")
        if let lastEventId { headers.add(name: "Last-Event-ID", value: lastEventId) }
        let head = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: self.server.eventStreamTarget(jobId: jobId),
            headers: headers
        )
        let timedOut = Atomic(false)
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await HTTPClientChannel.connect(
                to: self.server,
                timeout: self.timeout,
                eventLoopGroup: self.eventLoopGroup,
                sourcePorts: self.sourcePorts
            )
        } catch {
            return .failed(FailureReason(error))
        }
        // The head must come within the timeout; the deadline closes the channel, which ends the read.
        let raw = channel.channel
        let deadline = raw.eventLoop.scheduleTask(in: TimeAmount(self.timeout)) {
            timedOut.store(true, ordering: .relaxed)
            raw.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(contentsOf: [.head(head), .end(nil)])
                var parts = inbound.makeAsyncIterator()
                guard case .head(let answer)? = try await parts.next() else {
                    return .failed(timedOut.load(ordering: .relaxed) ? .requestTimedOut : .closedBeforeAnswer)
                }
                guard answer.status == .ok else {
                    var body: [UInt8] = []
                    while case .body(let chunk)? = try await parts.next(), body.count < 4_096 {
                        body += chunk.readableBytesView
                    }
                    return .failed(.answered(status: Int(answer.status.code), body: body))
                }
                deadline.cancel()
                opened { raw.close(promise: nil) }
                var parser = ServerSentEventParser()
                do {
                    while let part = try await parts.next() {
                        switch part {
                        case .head:
                            continue
                        case .body(let chunk):
                            for each in try parser.feed(chunk.readableBytesView) { block(each) }
                        case .end:
                            return .closed(reason: FailureReason.serverClosed.description)
                        }
                    }
                    return .closed(reason: FailureReason.connectionLost(cause: nil).description)
                } catch let error as ServerSentEventParser.BlockTooLarge {
                    return .closed(reason: error.description)
                } catch {
                    let cause = FailureReason.cause(of: error)
                    return .closed(reason: FailureReason.connectionLost(cause: cause).description)
                }
            }
        } catch {
            return .failed(timedOut.load(ordering: .relaxed) ? .requestTimedOut : FailureReason(error))
        }
    }
}
