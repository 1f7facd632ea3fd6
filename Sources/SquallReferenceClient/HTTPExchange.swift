import NIOCore
import NIOHTTP1
import SquallReferenceProtocol
import SquallServices
import Synchronization

/// One HTTP/1.1 request and its answer over a fresh connection (`Connection: close`), bounded by a timeout from
/// the TCP connect to the last byte; NIOHTTP1 does the parsing.
///
/// A fresh connection per request is what a browser's `fetch` after a network change opens, so the proxy's
/// connection faults hit polls too.
struct HTTPExchange: Sendable {
    /// An answer.
    struct Answer: Sendable {
        /// The status.
        var status: HTTPResponseStatus
        /// The body.
        var body: [UInt8]
    }

    /// The server.
    let server: ServerAddress
    /// The bound on the whole exchange.
    let timeout: Duration
    /// The loops to run on.
    let eventLoopGroup: any EventLoopGroup
    /// Told each connection's local port, when set.
    var sourcePorts: SourcePortObserver? = nil

    /// The largest answer read.
    static let maximumBodySize = 16 << 20

    /// Sends a request and reads the answer.
    ///
    /// - Parameters:
    ///   - method: the method.
    ///   - target: path and query.
    ///   - token: a bearer token, if any.
    ///   - body: a JSON body, if any.
    /// - Returns: the answer, or a short reason it did not come (`timed out`, `connection refused`, …).
    func send(
        _ method: HTTPMethod,
        _ target: String,
        token: String?,
        body: [UInt8]? = nil
    ) async -> Result<Answer, ExchangeFailure> {
        let timedOut = Atomic(false)
        do {
            let channel = try await HTTPClientChannel.connect(
                to: self.server,
                timeout: self.timeout,
                eventLoopGroup: self.eventLoopGroup,
                sourcePorts: self.sourcePorts
            )
            let deadline = channel.channel.eventLoop.scheduleTask(in: TimeAmount(self.timeout)) {
                timedOut.store(true, ordering: .relaxed)
                channel.channel.close(promise: nil)
            }
            defer { deadline.cancel() }
            let answer = try await channel.executeThenClose { inbound, outbound -> Answer? in
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: self.server.hostHeader)
                if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
                headers.add(name: "Accept", value: "application/json")
                headers.add(name: "Connection", value: "close")
                if let body {
                    headers.add(name: "Content-Type", value: "application/json")
                    headers.add(name: "Content-Length", value: String(body.count))
                }
                // The whole request in one write: one flush, one segment on the wire.
                var request: [HTTPClientRequestPart] = [
                    .head(HTTPRequestHead(version: .http1_1, method: method, uri: target, headers: headers))
                ]
                if let body { request.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                request.append(.end(nil))
                try await outbound.write(contentsOf: request)
                var status: HTTPResponseStatus?
                var received: [UInt8] = []
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        status = head.status
                    case .body(let chunk):
                        guard received.count + chunk.readableBytes <= Self.maximumBodySize else {
                            throw ExchangeFailure.tooLarge
                        }
                        received += chunk.readableBytesView
                    case .end:
                        return status.map { Answer(status: $0, body: received) }
                    }
                }
                return nil
            }
            if let answer { return .success(answer) }
            return .failure(timedOut.load(ordering: .relaxed) ? .timedOut : .closedEarly)
        } catch let failure as ExchangeFailure {
            return .failure(failure)
        } catch {
            if timedOut.load(ordering: .relaxed) { return .failure(.timedOut) }
            let reason = FailureReason(error)
            // The connect timeout is the request's: one bound from the connect to the last byte.
            return .failure(reason == .requestTimedOut ? .timedOut : .connection(reason))
        }
    }
}

/// Why an HTTP exchange brought no answer.
enum ExchangeFailure: Error, CustomStringConvertible {
    /// The timeout ran out.
    case timedOut
    /// The connection closed before a whole answer.
    case closedEarly
    /// The answer was larger than ``HTTPExchange/maximumBodySize``.
    case tooLarge
    /// Connecting or reading failed.
    case connection(FailureReason)

    /// The reason a client event carries.
    var reason: FailureReason {
        switch self {
        case .timedOut: .requestTimedOut
        case .closedEarly: .closedBeforeAnswer
        case .tooLarge: .other("answer larger than \(HTTPExchange.maximumBodySize) bytes")
        case .connection(let reason): reason
        }
    }

    var description: String { self.reason.description }
}
