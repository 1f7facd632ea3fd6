import Foundation

/// Where a job-progress server is: `http://host:port` plus an optional path prefix its endpoints live under.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host name or address.
    public var host: String
    /// The port.
    public var port: Int
    /// A path prefix without a trailing slash (`""` when the endpoints are at the root).
    public var pathPrefix: String

    /// Creates an address.
    public init(host: String, port: Int, pathPrefix: String = "") {
        self.host = host
        self.port = port
        self.pathPrefix = pathPrefix
    }

    /// Reads `http://host:port[/prefix]` (also `ws://`); nil for anything else, such as `https://` (the reference
    /// client speaks plain HTTP, which is what runs through a fault proxy on loopback).
    public init?(url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "ws", let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil
        else { return nil }
        self.host = host
        self.port = components.port ?? 80
        var prefix = components.path
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.pathPrefix = prefix
    }

    /// `http://host:port/prefix`.
    public var description: String {
        "http://\(self.host):\(self.port)\(self.pathPrefix)"
    }

    /// The `Host` header value.
    var hostHeader: String {
        self.port == 80 ? self.host : "\(self.host):\(self.port)"
    }

    /// The WebSocket endpoint's request target for a job.
    func progressTarget(jobId: String) -> String {
        "\(self.pathPrefix)/ws/progress?jobId=\(Self.escape(jobId))"
    }

    /// The event-stream endpoint's request target for a job.
    func eventStreamTarget(jobId: String) -> String {
        "\(self.pathPrefix)/sse/progress?jobId=\(Self.escape(jobId))"
    }

    /// The job-state endpoint's request target.
    func jobStateTarget(jobId: String, since: Int) -> String {
        "\(self.pathPrefix)/api/job-state/\(Self.escape(jobId))?since=\(since)"
    }

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }
}
