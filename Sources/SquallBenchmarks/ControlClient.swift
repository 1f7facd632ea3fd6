import Foundation

/// A minimal HTTP/1.1 client for a proxy's control API over a blocking loopback socket: one request per
/// connection, the status and body back.
struct ControlClient: Sendable {
    /// The control API's port on 127.0.0.1.
    let port: Int
    /// Sent as `Authorization: Bearer …` when set.
    var token: String?

    /// Sends a request and returns the answer's status and body, or nil when there was no complete answer.
    func request(_ method: String, _ path: String, body: String = "") -> (status: Int, body: String)? {
        guard let socket = try? BlockingSocket(port: self.port) else { return nil }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let token = self.token { head += "Authorization: Bearer \(token)\r\n" }
        head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        guard (try? socket.send(head + body)) != nil else { return nil }
        let answer = String(decoding: socket.readToEnd(timeout: 5).bytes, as: UTF8.self)
        guard answer.hasPrefix("HTTP/1.1 "), let status = Int(answer.dropFirst(9).prefix(3)) else { return nil }
        let text = answer.range(of: "\r\n\r\n").map { String(answer[$0.upperBound...]) } ?? ""
        return (status, text)
    }
}
