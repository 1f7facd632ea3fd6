import NIOHTTP1
import SquallReferenceProtocol

/// A request the job-progress server refuses, with the status and JSON body it answers.
package enum ReferenceAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400: the request is malformed (bad JSON, bad field, bad query parameter).
    case badRequest(String)
    /// 401: no token, or not this job's.
    case unauthorized
    /// 404: no such job (or it expired), or no such endpoint.
    case notFound(String)
    /// 405: the endpoint exists, the method does not.
    case methodNotAllowed(allowed: HTTPMethod)
    /// 413: the body is larger than the configured maximum.
    case payloadTooLarge(limit: Int)
    /// 503: the endpoint is briefly unavailable (the streaming side is restarting).
    case serviceUnavailable(String)
    /// 426: `GET /ws/progress` without a WebSocket upgrade (e.g. a proxy stripped it).
    case upgradeRequired

    /// The HTTP status.
    package var status: HTTPResponseStatus {
        switch self {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .payloadTooLarge: .payloadTooLarge
        case .upgradeRequired: .upgradeRequired
        case .serviceUnavailable: .serviceUnavailable
        }
    }

    /// The status code.
    package var statusCode: Int { Int(self.status.code) }

    /// The JSON body.
    package var body: ErrorBody {
        switch self {
        case .badRequest(let message):
            ErrorBody(error: "bad_request", message: message)
        case .unauthorized:
            ErrorBody(
                error: "unauthorized",
                message: "send the job's token as 'Authorization: Bearer <token>' or '?token=<token>'"
            )
        case .notFound(let message):
            ErrorBody(error: "not_found", message: message)
        case .methodNotAllowed(let allowed):
            ErrorBody(error: "method_not_allowed", message: "this endpoint answers \(allowed.rawValue) only")
        case .payloadTooLarge(let limit):
            ErrorBody(error: "payload_too_large", message: "request body larger than \(limit) bytes")
        case .serviceUnavailable(let message):
            ErrorBody(error: "service_unavailable", message: message)
        case .upgradeRequired:
            ErrorBody(
                error: "upgrade_required",
                message: "/ws/progress needs a WebSocket upgrade; poll /api/job-state/{jobId} instead"
            )
        }
    }

    package var description: String {
        "\(self.status.code) \(self.body.error): \(self.body.message)"
    }
}
