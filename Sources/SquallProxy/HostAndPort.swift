import SquallFaults

/// A `host:port` pair as written in configurations: `127.0.0.1:8080`, `localhost:0`, `[::1]:80` or `:8080`.
public struct HostAndPort: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP literal, without brackets; empty means all interfaces.
    public var host: String
    /// Port number; 0 asks the system for a free port when listening.
    public var port: Int

    /// Creates a pair.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`.
    ///
    /// - Throws: ``FaultError/invalidValue(path:expected:found:)`` when the text is not `host:port` with a port in
    ///   `0...65535`.
    public init(parsing text: String, path: String) throws(FaultError) {
        let invalid = FaultError.invalidValue(
            path: path,
            expected: "\"host:port\" with a port in 0...65535 (e.g. \"127.0.0.1:8080\")",
            found: JSONValue.string(text).typeDescription
        )
        guard let colon = text.lastIndex(of: ":") else { throw invalid }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { throw invalid }
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        guard !host.contains(where: { $0 == " " || $0 == "/" }) else { throw invalid }
        self.host = host
        self.port = port
    }

    /// The pair as `host:port`, bracketing IPv6 literals.
    public var description: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }

    /// The host to bind or connect to: all interfaces when empty.
    var bindHost: String {
        self.host.isEmpty ? "::" : self.host
    }
}
