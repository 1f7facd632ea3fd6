import NIOCore
import NIOHTTP1
import SquallFaults

/// A control-API failure: an HTTP status and Toxiproxy's message for it.
public struct ControlAPIError: Error, Sendable, CustomStringConvertible {
    /// The status to answer with.
    public var status: HTTPResponseStatus
    /// The message in the `error` field of the body.
    public var message: String
    /// Extra headers, such as `Allow` on 405.
    public var headers: HTTPHeaders = [:]

    /// Creates an error.
    public init(status: HTTPResponseStatus, message: String, headers: HTTPHeaders = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    /// 400 with a message.
    public static func badRequest(_ message: String) -> ControlAPIError {
        ControlAPIError(status: .badRequest, message: message)
    }

    /// 404 with a message.
    public static func notFound(_ message: String) -> ControlAPIError {
        ControlAPIError(status: .notFound, message: message)
    }

    /// 409 with a message.
    public static func conflict(_ message: String) -> ControlAPIError {
        ControlAPIError(status: .conflict, message: message)
    }

    /// 405 naming the methods the path takes.
    public static func methodNotAllowed(allowed: String) -> ControlAPIError {
        ControlAPIError(
            status: .methodNotAllowed,
            message: "method not allowed; use \(allowed)",
            headers: ["Allow": allowed]
        )
    }

    /// Maps a proxy failure to Toxiproxy's status and message.
    init(_ error: ProxyError) {
        switch error {
        case .proxyNotFound: self = .notFound("proxy not found")
        case .faultNotFound: self = .notFound("toxic not found")
        case .proxyExists: self = .conflict("proxy already exists")
        case .faultExists: self = .conflict("toxic already exists")
        case .invalidConfiguration(let error): self = .badRequest("bad request body: \(error)")
        case .immutable(let reason): self = .badRequest(reason)
        case .listenFailed: self = ControlAPIError(status: .internalServerError, message: error.description)
        }
    }

    /// Maps a validation failure to Toxiproxy's status and message where Toxiproxy has one (clients match on
    /// them), and to Squall's message with the JSON path otherwise.
    init(_ error: FaultError) {
        switch error.underlying {
        case .missingField(_, let field) where field == "name" || field == "upstream":
            self = .badRequest("missing required field: \(field)")
        case .missingField(_, "type"):
            self = .badRequest("invalid toxic type: expected one of \(Self.faultTypes), found nothing")
        case .unknownFaultType(_, let found):
            self = .badRequest("invalid toxic type: expected one of \(Self.faultTypes), found \"\(found)\"")
        case .invalidValue(let path, _, _) where path == "stream" || path.hasSuffix(".stream"):
            self = .badRequest("stream was invalid, can be either upstream or downstream")
        case .duplicateName(let path, _) where path.contains("toxics[") || path.contains("faults["):
            self = .conflict("toxic already exists")
        case .invalidJSON, .invalidValue, .missingField, .unknownKey, .duplicateName, .inContext, .several:
            self = .badRequest("bad request body: \(error)")
        }
    }

    private static var faultTypes: String {
        FaultType.allCases.map(\.rawValue).joined(separator: ", ")
    }

    /// Parses a request body as JSON; an empty body is Toxiproxy's `bad request body: EOF`.
    static func parseBody(_ body: ByteBuffer) throws(ControlAPIError) -> JSONValue {
        guard body.readableBytes > 0 else { throw ControlAPIError.badRequest("bad request body: EOF") }
        do {
            return try JSONValue.parse(body.readableBytesView)
        } catch {
            throw ControlAPIError.badRequest("bad request body: \(error)")
        }
    }

    /// The response carrying this error.
    var response: ControlResponse {
        var response = ControlResponse.error(self.status, self.message)
        for (name, value) in self.headers {
            response.headers.replaceOrAdd(name: name, value: value)
        }
        return response
    }

    /// The status and message.
    public var description: String {
        "\(self.status.code) \(self.message)"
    }
}
