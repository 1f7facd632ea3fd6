import NIOHTTP1
import SquallFaults

/// An answer of the control API: status, headers and body.
package struct ControlResponse: Sendable {
    /// The HTTP status.
    package var status: HTTPResponseStatus
    /// Extra headers; `Content-Length` is added when sent.
    package var headers: HTTPHeaders
    /// The body bytes as text.
    package var body: String

    /// Creates a response.
    package init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: String = "") {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body with `Content-Type: application/json`.
    package static func json(_ value: JSONValue, status: HTTPResponseStatus = .ok) -> ControlResponse {
        ControlResponse(status: status, headers: ["Content-Type": "application/json"], body: value.jsonText + "\n")
    }

    /// Toxiproxy's error shape `{"error": message, "status": code}`.
    ///
    /// Like Toxiproxy (which uses Go's `http.Error`), the content type is `text/plain; charset=utf-8` with
    /// `X-Content-Type-Options: nosniff`, although the body is JSON; clients parse the body whatever the type.
    package static func error(_ status: HTTPResponseStatus, _ message: String) -> ControlResponse {
        let body = JSONValue.object(["error": .string(message), "status": .number(Double(status.code))])
        return ControlResponse(
            status: status,
            headers: ["Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"],
            body: body.jsonText + "\n"
        )
    }

    /// 204 with no body, as deletes and reset answer.
    package static let noContent = ControlResponse(status: .noContent)
}
