import Foundation
import NIOCore
import SquallFaults
import SquallProxy
import SquallTestSupport

/// A running control API over a fresh proxy collection, with a real HTTP client.
struct ControlAPIHarness {
    let collection: ProxyCollection
    let server: ControlServer
    let runner: Task<Void, Never>
    let client: HTTPTestClient

    typealias Answer = HTTPTestClient.Answer

    static func start(seed: UInt64 = 1, token: ControlToken? = nil) async throws -> ControlAPIHarness {
        let collection = ProxyCollection(seed: seed)
        let server = try await ControlServer.bind(
            host: "127.0.0.1",
            port: 0,
            router: ControlRouter(collection: collection, token: token)
        )
        let runner = Task { await server.run() }
        let client = HTTPTestClient(port: server.localAddress.port!)
        return ControlAPIHarness(collection: collection, server: server, runner: runner, client: client)
    }

    var port: Int { self.server.localAddress.port! }

    func stop() async {
        await self.server.close()
        await self.runner.value
        await self.collection.stopAll()
    }

    func request(
        _ method: String,
        _ path: String,
        _ body: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> Answer {
        try await self.client.request(method, path, body: body, headers: headers)
    }

    /// Creates a proxy in front of `upstream` and returns its bound port.
    func createProxy(_ name: String, upstream: Int) async throws -> Int {
        let answer = try await self.request(
            "POST",
            "/proxies",
            #"{"name": "\#(name)", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:\#(upstream)"}"#
        )
        guard case .object(let members)? = answer.json, case .string(let listen)? = members["listen"],
            let port = Int(listen.split(separator: ":").last ?? "")
        else { throw HarnessError.unexpected(answer.body) }
        return port
    }

    enum HarnessError: Error {
        case unexpected(String)
    }
}

extension HTTPTestClient.Answer {
    /// The body as JSON.
    var json: JSONValue? {
        try? JSONValue.parse(Array(self.body.utf8))
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
