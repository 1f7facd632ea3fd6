/// Why a connection, a request or a stream of the reference system ended or failed, in the words its events carry.
///
/// The real client and server and their simulated twins all describe what happened through this one type, so a sim
/// log and a real log say the same thing about the same event (`squall sim --compare` reads both).
package enum FailureReason: Sendable, Hashable, CustomStringConvertible {
    /// The server's port refused the connection (RST to the SYN).
    case connectionRefused
    /// The connection was reset (RST).
    case connectionReset
    /// The connection was closed (FIN) where nothing more was expected.
    case connectionClosed
    /// The connection closed (FIN) before the whole HTTP answer came.
    case closedBeforeAnswer
    /// A write found the connection gone.
    case brokenPipe
    /// An HTTP request (its connect included) got no answer within its timeout.
    case requestTimedOut
    /// A WebSocket upgrade (its connect included) got no `101` within the connect timeout.
    case upgradeTimedOut
    /// The WebSocket upgrade was answered with something other than `101`: the status and the error the body
    /// named, when it named one.
    case upgradeRejected(status: Int?, error: String?)
    /// An HTTP request was answered with a status other than `200`, and what the body said, when it said anything.
    case answered(status: Int, detail: String?)
    /// The answer came, but not as the protocol's JSON.
    case unreadableAnswer(String)
    /// The WebSocket's connection ended without a close frame (EOF).
    case closedWithoutCloseFrame
    /// The WebSocket's connection failed under it, with the cause when known.
    case connectionLost(cause: Cause?)
    /// The peer closed the WebSocket with a close frame and no reason text.
    case serverClosed
    /// The client's side of a stream ended without a close frame (the server's view).
    case clientDisconnected
    /// The run stopped the client before its job ended.
    case clientStopped
    /// Anything else, in the words of whatever failed.
    case other(String)

    /// What made a connection fail under a stream.
    package enum Cause: Sendable, Hashable {
        /// A reset.
        case reset
        /// A write to a gone peer.
        case brokenPipe
        /// Anything else.
        case other(String)
    }

    package var description: String {
        switch self {
        case .connectionRefused: "connection refused"
        case .connectionReset: "connection reset"
        case .connectionClosed: "connection closed"
        case .closedBeforeAnswer: "connection closed before the answer"
        case .brokenPipe: "broken pipe"
        case .requestTimedOut: "request timed out"
        case .upgradeTimedOut: "upgrade timed out"
        case .upgradeRejected(let status, let error):
            "upgrade rejected: HTTP \(status.map(String.init) ?? "?")" + (error.map { " (\($0))" } ?? "")
        case .answered(let status, let detail): "HTTP \(status)" + (detail.map { ": \($0)" } ?? "")
        case .unreadableAnswer(let detail): "answer is not a job state: \(detail)"
        case .closedWithoutCloseFrame: "connection closed without a close frame"
        case .connectionLost(nil): "connection lost"
        case .connectionLost(.reset?): "connection lost: connection reset"
        case .connectionLost(.brokenPipe?): "connection lost: broken pipe"
        case .connectionLost(.other(let cause)?): "connection lost: \(cause)"
        case .serverClosed: "server closed"
        case .clientDisconnected: "client disconnected"
        case .clientStopped: "client stopped"
        case .other(let text): text
        }
    }

    /// The reason of an HTTP answer other than `200`, read from its body: the server's `{"error", "message"}` (its
    /// message) or a proxy's `{"error", "status"}` (its error); nothing when the body is neither.
    package static func answered(status: Int, body: some Collection<UInt8>) -> FailureReason {
        let fields = Self.errorFields(body)
        return .answered(status: status, detail: fields.map { $0.message ?? $0.error })
    }

    /// The reason of a refused WebSocket upgrade, read from its body: the error it names, when it names one.
    package static func upgradeRejected(status: Int?, body: some Collection<UInt8>) -> FailureReason {
        .upgradeRejected(status: status, error: Self.errorFields(body)?.error)
    }

    /// A JSON error body's `error` and `message`, or nil when the body is not one.
    private static func errorFields(_ body: some Collection<UInt8>) -> (error: String, message: String?)? {
        guard let body = try? ProtocolJSON.decode(AnswerError.self, from: body) else { return nil }
        return (body.error, body.message)
    }

    /// The fields of an error body Squall's clients read: the server's and the proxy's shapes alike.
    private struct AnswerError: Decodable {
        var error: String
        var message: String?
    }
}
