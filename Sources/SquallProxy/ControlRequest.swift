import Foundation
import NIOCore
import NIOHTTP1

/// One complete request to the control API: head and body.
package struct ControlRequest: Sendable {
    /// The HTTP method.
    package var method: HTTPMethod
    /// The request target, path and query.
    package var uri: String
    /// The request headers.
    package var headers: HTTPHeaders
    /// The body (empty when none was sent).
    package var body: ByteBuffer

    /// Creates a request.
    package init(method: HTTPMethod, uri: String, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }

    /// The path split into its non-empty, percent-decoded segments.
    var pathSegments: [String] {
        let path = self.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return path.split(separator: "/").map { String($0).removingPercentEncodingLeniently }
    }

    /// The query parameters.
    var query: [String: String] {
        let parts = self.uri.split(separator: "?", maxSplits: 1)
        guard parts.count == 2 else { return [:] }
        var result: [String: String] = [:]
        for pair in parts[1].split(separator: "&") {
            let keyValue = pair.split(separator: "=", maxSplits: 1)
            let key = String(keyValue[0]).removingPercentEncodingLeniently
            result[key] = keyValue.count > 1 ? String(keyValue[1]).removingPercentEncodingLeniently : ""
        }
        return result
    }

    /// Whether the request comes from a web browser: a `User-Agent` starting with `Mozilla/`, as Toxiproxy
    /// checks, or any `Origin` header (browsers send it on cross-site requests). Such requests are refused so a web
    /// page cannot reconfigure a developer's proxy.
    /// The host named by the `Host` header, lowercased, without its port (`[::1]:8474` → `::1`); nil without one.
    var hostName: String? {
        guard let value = self.headers["Host"].first?.trimmingCharacters(in: .whitespaces).lowercased(),
            !value.isEmpty
        else { return nil }
        if value.hasPrefix("["), let end = value.firstIndex(of: "]") {
            return String(value[value.index(after: value.startIndex)..<end])
        }
        if value.filter({ $0 == ":" }).count == 1, let colon = value.firstIndex(of: ":") {
            return String(value[..<colon])
        }
        return value
    }

    var isFromBrowser: Bool {
        self.headers["User-Agent"].contains { $0.hasPrefix("Mozilla/") } || !self.headers["Origin"].isEmpty
    }
}

extension String {
    /// Decodes `%XX` escapes; malformed escapes are kept as written.
    fileprivate var removingPercentEncodingLeniently: String {
        guard self.contains("%") else { return self }
        var bytes: [UInt8] = []
        var iterator = Array(self.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
