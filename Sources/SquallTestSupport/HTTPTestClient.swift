import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A plain HTTP client for tests (Foundation's `URLSession`, a client the code under test did not write), aimed at
/// `127.0.0.1:port`.
public struct HTTPTestClient: Sendable {
    /// An HTTP answer as a client sees it.
    public struct Answer: Sendable {
        /// The status code.
        public var status: Int
        /// The `Content-Type` header, or empty.
        public var contentType: String
        /// The body as text.
        public var body: String
        /// Every header, names lower-cased.
        public var headers: [String: String]
    }

    /// The port on 127.0.0.1.
    public let port: Int
    private let session: URLSession

    /// Creates a client for `127.0.0.1:port` with a 10 s request timeout.
    public init(port: Int) {
        self.port = port
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        self.session = URLSession(configuration: configuration)
    }

    /// Sends a request and returns the answer.
    public func request(
        _ method: String,
        _ path: String,
        body: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> Answer {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(self.port)\(path)")!)
        request.httpMethod = method
        if let body { request.httpBody = Data(body.utf8) }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await self.session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields { fields["\(key)".lowercased()] = "\(value)" }
        return Answer(
            status: http.statusCode,
            contentType: fields["content-type"] ?? "",
            body: String(decoding: data, as: UTF8.self),
            headers: fields
        )
    }
}
