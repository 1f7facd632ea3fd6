import NIOCore
import NIOHTTP1
import SquallFaults

/// A response the proxy gives itself instead of the server (a rejected upgrade, a failed request): a small JSON body
/// saying why, written through NIO's `HTTPResponseEncoder` in the client's pipeline.
struct ProxyAnswer {
    /// The response's status code.
    let status: Int
    /// Why the proxy answered, as the body's `error`.
    let message: String
    /// Whether the connection stays open for further requests.
    let keepAlive: Bool

    /// The response as NIO's encoder takes it.
    var parts: [HTTPServerResponsePart] {
        let body = ByteBuffer(bytes: RequestRule.answerBody(status: self.status, message: self.message))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: self.keepAlive ? "keep-alive" : "close")
        headers.add(name: "Via", value: "1.1 squall")
        let head = HTTPResponseHead(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: self.status),
            headers: headers
        )
        return [.head(head), .body(.byteBuffer(body)), .end(nil)]
    }
}
