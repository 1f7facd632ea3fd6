import Foundation
import SquallFaults
import SquallProxy
import SquallTestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A running control API over a fresh proxy collection, with a real HTTP client.
struct ControlAPIHarness {
    let collection: ProxyCollection
    let server: ControlServer
    let runner: Task<Void, Never>
    let session: URLSession

    /// An HTTP answer as a client sees it.
    struct Answer {
        var status: Int
        var contentType: String
        var body: String
        var headers: [String: String]

        /// The body as JSON.
        var json: JSONValue? {
            try? JSONValue.parse(Array(self.body.utf8))
        }
    }

    static func start(seed: UInt64 = 1) async throws -> ControlAPIHarness {
        let collection = ProxyCollection(seed: seed)
        let server = try await ControlServer.bind(host: "127.0.0.1", port: 0, router: ControlRouter(collection: collection))
        let runner = Task { await server.run() }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        return ControlAPIHarness(collection: collection, server: server, runner: runner, session: URLSession(configuration: configuration))
    }

    var port: Int { self.server.localAddress.port! }

    func stop() async {
        await self.server.close()
        await self.runner.value
        await self.collection.stopAll()
    }

    func request(_ method: String, _ path: String, _ body: String? = nil, headers: [String: String] = [:]) async throws -> Answer {
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

    /// Creates a proxy in front of `upstream` and returns its bound port.
    func createProxy(_ name: String, upstream: Int) async throws -> Int {
        let answer = try await self.request("POST", "/proxies", #"{"name": "\#(name)", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:\#(upstream)"}"#)
        guard case .object(let members)? = answer.json, case .string(let listen)? = members["listen"],
            let port = Int(listen.split(separator: ":").last ?? "")
        else { throw HarnessError.unexpected(answer.body) }
        return port
    }

    enum HarnessError: Error {
        case unexpected(String)
    }
}

extension JSONValue {
    /// A member of an object, for assertions.
    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// An element of an array, for assertions.
    subscript(index: Int) -> JSONValue? {
        if case .array(let values) = self, values.indices.contains(index) { return values[index] }
        return nil
    }
}
