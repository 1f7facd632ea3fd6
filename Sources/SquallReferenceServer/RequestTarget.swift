import Foundation
import NIOHTTP1

/// A request's path, query and token, read from its head.
struct RequestTarget: Sendable {
    /// The path's non-empty, percent-decoded segments.
    var segments: [String]
    /// The query parameters (the last value wins).
    var query: [String: String]
    /// The bearer token from `Authorization: Bearer …`, else from `?token=`.
    var token: String?

    /// Reads a request head; nil when its target is not a valid URI path.
    init?(_ head: HTTPRequestHead) {
        guard let components = URLComponents(string: head.uri) else { return nil }
        self.segments = components.path.split(separator: "/").map(String.init)
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            query[item.name] = item.value ?? ""
        }
        self.query = query
        let bearer = head.headers["Authorization"].lazy.compactMap { value -> String? in
            let parts = value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            return String(parts[1]).trimmingCharacters(in: .whitespaces)
        }.first
        self.token = bearer ?? query["token"]
    }
}
