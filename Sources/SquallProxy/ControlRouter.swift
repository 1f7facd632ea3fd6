import NIOCore
import NIOHTTP1
import SquallFaults
import Synchronization

/// Answers control-API requests: Toxiproxy's endpoints with its status codes, shapes and messages, plus Squall's
/// extensions (`/metrics`, per-connection listing and cutting, `connections` selectors on faults).
///
/// Pure request → response logic over a ``ProxyCollection``; ``ControlServer`` carries it over HTTP.
package struct ControlRouter: Sendable {
    /// The version `GET /version` reports.
    package static let version = "squall-0.1.0"
    /// The largest accepted request body.
    package static let maximumBodySize = 1 << 20

    /// The host names a request's `Host` may name by default: loopback only, so a web page that rebinds its own
    /// DNS name to 127.0.0.1 cannot drive the API (Toxiproxy does not check this).
    package static let loopbackHosts: Set<String> = ["127.0.0.1", "localhost", "::1"]

    private let collection: ProxyCollection
    private let requestCounter = RequestCounter()
    /// Host names accepted in `Host` (lowercased, without port); nil accepts any.
    private let allowedHosts: Set<String>?
    /// The bearer token every request must carry, when one is set.
    private let token: ControlToken?

    /// Creates a router over `collection`.
    ///
    /// - Parameters:
    ///   - collection: the proxies.
    ///   - allowedHosts: the host names a request's `Host` header may name besides loopback ones (the address the
    ///     API listens on, `--allow-host` values); nil accepts any host.
    ///   - token: the bearer token every request must carry (Toxiproxy's `TOXIPROXY_AUTH_TOKEN`); nil for none.
    package init(collection: ProxyCollection, allowedHosts: Set<String>? = [], token: ControlToken? = nil) {
        self.collection = collection
        self.allowedHosts = allowedHosts.map { Set($0.map { $0.lowercased() }).union(Self.loopbackHosts) }
        self.token = token
    }

    /// Answers one request; never throws: every failure becomes a 4xx or 5xx response with a JSON error body.
    package func respond(to request: ControlRequest) async -> ControlResponse {
        if request.isFromBrowser {
            return .error(.forbidden, "User agent not allowed")
        }
        if let allowed = self.allowedHosts, let host = request.hostName, !allowed.contains(host) {
            return .error(
                .forbidden,
                "Host \"\(host)\" not allowed: the control API answers \(allowed.sorted().joined(separator: ", ")) (start squall proxy with --allow-host \(host) to allow it)"
            )
        }
        if let token = self.token, !token.isPresent(in: request.headers) {
            var response = ControlResponse.error(
                .unauthorized,
                request.headers["Authorization"].isEmpty
                    ? "missing bearer token: send Authorization: Bearer <token>"
                    : "invalid bearer token"
            )
            response.headers.replaceOrAdd(name: "WWW-Authenticate", value: "Bearer realm=\"squall\"")
            response.headers.replaceOrAdd(name: "X-Toxiproxy-Request-Id", value: self.requestCounter.next())
            return response
        }
        var response: ControlResponse
        do {
            response = try await self.route(request)
        } catch {
            response = error.response
        }
        response.headers.replaceOrAdd(name: "X-Toxiproxy-Request-Id", value: self.requestCounter.next())
        return response
    }

    private func route(_ request: ControlRequest) async throws(ControlAPIError) -> ControlResponse {
        let segments = request.pathSegments
        let method = request.method
        switch (segments.count, segments.first) {
        case (1, "proxies"):
            switch method {
            case .GET: return await self.listProxies()
            case .POST: return try await self.createProxy(request)
            default: throw ControlAPIError.methodNotAllowed(allowed: "GET, POST")
            }
        case (1, "populate"):
            guard method == .POST else { throw ControlAPIError.methodNotAllowed(allowed: "POST") }
            return await self.populate(request)
        case (1, "reset"):
            guard method == .POST else { throw ControlAPIError.methodNotAllowed(allowed: "POST") }
            do {
                try await self.collection.reset()
            } catch {
                throw ControlAPIError(error)
            }
            return .noContent
        case (1, "handoff"):
            guard method == .POST else { throw ControlAPIError.methodNotAllowed(allowed: "POST") }
            let handoff = try Self.handoff(request)
            var reports: [JSONValue] = []
            for proxy in await self.collection.all {
                reports.append(await proxy.handoff(handoff).json)
            }
            return .json(.object(["handoffs": .array(reports)]))
        case (1, "version"):
            guard method == .GET else { throw ControlAPIError.methodNotAllowed(allowed: "GET") }
            return ControlResponse(
                status: .ok,
                headers: ["Content-Type": "application/json;charset=utf-8"],
                body: "{\"version\": \(JSONValue.quote(Self.version))}\n"
            )
        case (1, "metrics"):
            guard method == .GET else { throw ControlAPIError.methodNotAllowed(allowed: "GET") }
            return ControlResponse(
                status: .ok,
                headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                body: PrometheusText.render(await self.collection.all)
            )
        case (2, "proxies"):
            let proxy = try await self.proxy(segments[1])
            switch method {
            case .GET: return .json(proxy.json)
            case .POST, .PATCH: return try await self.updateProxy(proxy, request)
            case .DELETE:
                do {
                    try await self.collection.delete(named: proxy.name)
                } catch {
                    throw ControlAPIError(error)
                }
                return .noContent
            default: throw ControlAPIError.methodNotAllowed(allowed: "GET, POST, PATCH, DELETE")
            }
        case (3, "proxies") where segments[2] == "toxics":
            let proxy = try await self.proxy(segments[1])
            switch method {
            case .GET: return .json(.array(ProxyServer.toxiproxyOrder(proxy.faults).map(\.json)))
            case .POST: return try await self.createFault(proxy, request)
            default: throw ControlAPIError.methodNotAllowed(allowed: "GET, POST")
            }
        case (4, "proxies") where segments[2] == "toxics":
            let proxy = try await self.proxy(segments[1])
            guard let fault = proxy.faults.first(where: { $0.name == segments[3] }) else {
                throw ControlAPIError.notFound("toxic not found")
            }
            switch method {
            case .GET: return .json(fault.json)
            case .POST, .PATCH: return try await self.updateFault(fault, of: proxy, request)
            case .DELETE:
                do {
                    try await proxy.removeFault(named: fault.name)
                } catch {
                    throw ControlAPIError(error)
                }
                return .noContent
            default: throw ControlAPIError.methodNotAllowed(allowed: "GET, POST, PATCH, DELETE")
            }
        case (3, "proxies") where segments[2] == "handoff":
            let proxy = try await self.proxy(segments[1])
            guard method == .POST else { throw ControlAPIError.methodNotAllowed(allowed: "POST") }
            return .json(await proxy.handoff(try Self.handoff(request)).json)
        case (3, "proxies") where segments[2] == "connections":
            let proxy = try await self.proxy(segments[1])
            guard method == .GET else { throw ControlAPIError.methodNotAllowed(allowed: "GET") }
            return .json(.array(proxy.connections.map(\.json)))
        case (4, "proxies") where segments[2] == "connections":
            let proxy = try await self.proxy(segments[1])
            guard method == .DELETE else { throw ControlAPIError.methodNotAllowed(allowed: "DELETE") }
            guard let id = UInt64(segments[3]) else {
                throw ControlAPIError.badRequest("connection id must be a whole number, found \"\(segments[3])\"")
            }
            let mode = request.query["mode"] ?? "fin"
            guard mode == "fin" || mode == "reset" else {
                throw ControlAPIError.badRequest("mode must be \"fin\" or \"reset\", found \"\(mode)\"")
            }
            guard proxy.closeConnection(id: id, reset: mode == "reset") else {
                throw ControlAPIError.notFound("connection not found")
            }
            return .noContent
        default:
            throw ControlAPIError.notFound("404 page not found")
        }
    }

    // MARK: Proxies

    private func proxy(_ name: String) async throws(ControlAPIError) -> ProxyServer {
        do {
            return try await self.collection.proxy(named: name)
        } catch {
            throw ControlAPIError(error)
        }
    }

    private func listProxies() async -> ControlResponse {
        var members: [String: JSONValue] = [:]
        for proxy in await self.collection.all {
            members[proxy.name] = proxy.json
        }
        return .json(.object(members))
    }

    private func createProxy(_ request: ControlRequest) async throws(ControlAPIError) -> ControlResponse {
        let body = try ControlAPIError.parseBody(request.body)
        let configuration = try Self.proxyConfiguration(body, path: "")
        do {
            let proxy = try await self.collection.create(configuration)
            return .json(proxy.json, status: .created)
        } catch {
            throw ControlAPIError(error)
        }
    }

    private func updateProxy(
        _ proxy: ProxyServer,
        _ request: ControlRequest
    ) async throws(ControlAPIError) -> ControlResponse {
        let body = try ControlAPIError.parseBody(request.body)
        let listen: HostAndPort?
        let upstream: HostAndPort?
        let enabled: Bool?
        var profileChange: NetworkProfile??
        do throws(FaultError) {
            var reader = try JSONObjectReader(body, path: "")
            if case .object(let members) = body, let key = members.keys.first(where: { $0.lowercased() == "profile" }) {
                if case .string(let name)? = members[key] {
                    profileChange = .some(try NetworkProfile.parse(name, path: "profile"))
                } else if members[key] == .null {
                    profileChange = .some(nil)
                } else {
                    throw FaultError.invalidValue(
                        path: "profile",
                        expected: "a profile name or null",
                        found: members[key]!.typeDescription
                    )
                }
            }
            let listenText = try reader.string("listen")
            let upstreamText = try reader.string("upstream")
            enabled = try reader.bool("enabled")
            listen = try listenText.flatMap { text throws(FaultError) in
                text.isEmpty ? nil : try HostAndPort(parsing: text, path: "listen")
            }
            upstream = try upstreamText.flatMap { text throws(FaultError) in
                try HostAndPort(parsing: text, path: "upstream")
            }
        } catch {
            throw ControlAPIError.badRequest("bad request body: \(error)")
        }
        do {
            try await proxy.update(listen: listen, upstream: upstream, enabled: enabled)
            if let profileChange {
                try await proxy.setProfile(profileChange)
            }
        } catch {
            throw ControlAPIError(error)
        }
        return .json(proxy.json)
    }

    private func populate(_ request: ControlRequest) async -> ControlResponse {
        func failure(_ error: ControlAPIError, _ proxies: [ProxyServer]?) -> ControlResponse {
            let body = JSONValue.object([
                "error": .string(error.message),
                "status": .number(Double(error.status.code)),
                "proxies": proxies.map { .array($0.map(\.json)) } ?? .null,
            ])
            return ControlResponse(
                status: error.status,
                headers: ["Content-Type": "application/json"],
                body: body.jsonText + "\n"
            )
        }
        var configurations: [ProxyConfiguration] = []
        do throws(ControlAPIError) {
            let body = try ControlAPIError.parseBody(request.body)
            guard case .array(let entries) = body else {
                throw ControlAPIError.badRequest(
                    "bad request body: expected an array of proxies, found \(body.typeDescription)"
                )
            }
            for (index, entry) in entries.enumerated() {
                configurations.append(try Self.proxyConfiguration(entry, path: "[\(index)]"))
            }
        } catch {
            return failure(error, nil)
        }
        do {
            let proxies = try await self.collection.populate(configurations)
            return .json(.object(["proxies": .array(proxies.map(\.json))]), status: .created)
        } catch {
            return failure(ControlAPIError(error), await self.collection.all)
        }
    }

    /// Reads a proxy entry leniently (unknown keys ignored, as Toxiproxy does) with the one proxy reader, and
    /// words its error as Toxiproxy would.
    private static func proxyConfiguration(
        _ value: JSONValue,
        path: String
    ) throws(ControlAPIError) -> ProxyConfiguration {
        do {
            return try ProxyConfiguration(json: value, path: path, strictness: .lenient)
        } catch {
            throw ControlAPIError(error)
        }
    }

    private static func handoff(_ request: ControlRequest) throws(ControlAPIError) -> Handoff {
        let body = request.body.readableBytes == 0 ? JSONValue.object([:]) : try ControlAPIError.parseBody(request.body)
        do {
            return try Handoff(json: body, path: "")
        } catch {
            throw ControlAPIError.badRequest("bad request body: \(error)")
        }
    }

    // MARK: Faults

    private func createFault(
        _ proxy: ProxyServer,
        _ request: ControlRequest
    ) async throws(ControlAPIError) -> ControlResponse {
        let body = try ControlAPIError.parseBody(request.body)
        let fault: Fault
        do {
            fault = try Fault(json: body, path: "")
        } catch {
            throw ControlAPIError(error)
        }
        do {
            try await proxy.addFault(fault)
        } catch {
            throw ControlAPIError(error)
        }
        return .json(fault.json)
    }

    private func updateFault(
        _ fault: Fault,
        of proxy: ProxyServer,
        _ request: ControlRequest
    ) async throws(ControlAPIError) -> ControlResponse {
        let body = try ControlAPIError.parseBody(request.body)
        let updated: Fault
        do throws(FaultError) {
            var reader = try JSONObjectReader(body, path: "")
            let toxicity = try reader.number("toxicity", in: -Double.infinity...Double.infinity, expected: "a number")
            updated = try fault.updating(attributes: reader.value("attributes"), toxicity: toxicity)
        } catch {
            throw ControlAPIError.badRequest("bad request body: \(error)")
        }
        do {
            try await proxy.updateFault(updated)
        } catch {
            throw ControlAPIError(error)
        }
        return .json(updated.json)
    }
}

/// Numbers responses for the `X-Toxiproxy-Request-Id` header.
private final class RequestCounter: Sendable {
    private let value = Atomic<UInt64>(0)

    func next() -> String {
        let number = self.value.add(1, ordering: .relaxed).newValue
        let hex = String(number, radix: 16)
        return "sq" + String(repeating: "0", count: max(0, 18 - hex.count)) + hex
    }
}
