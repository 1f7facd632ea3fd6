import NIOHTTP1
import SquallReferenceProtocol

/// One answer of the job-progress server's HTTP API: a status and a JSON body.
struct ReferenceResponse: Sendable {
    /// The status.
    var status: HTTPResponseStatus
    /// The JSON body.
    var body: [UInt8]
    /// Extra headers (`Allow`, `Upgrade`).
    var headers: HTTPHeaders = [:]

    /// A JSON answer.
    static func json(_ status: HTTPResponseStatus, _ value: some Encodable) -> ReferenceResponse {
        ReferenceResponse(status: status, body: ProtocolJSON.encode(value))
    }

    /// The answer for a refused request.
    static func error(_ error: ReferenceAPIError) -> ReferenceResponse {
        var response = Self.json(error.status, error.body)
        switch error {
        case .methodNotAllowed(let allowed):
            response.headers.add(name: "Allow", value: allowed.rawValue)
        case .upgradeRequired:
            response.headers.add(name: "Upgrade", value: "websocket")
        case .unauthorized:
            response.headers.add(name: "WWW-Authenticate", value: "Bearer")
        case .serviceUnavailable:
            response.headers.add(name: "Retry-After", value: "1")
        case .badRequest, .notFound, .payloadTooLarge:
            break
        }
        return response
    }
}
