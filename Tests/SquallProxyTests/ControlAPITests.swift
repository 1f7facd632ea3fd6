import Foundation
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

/// Real HTTP requests against the control API over loopback: every endpoint, shape and error path.
@Suite struct ControlAPITests {
    @Test func versionAnswersToxiproxysShape() async throws {
        let api = try await ControlAPIHarness.start()
        let answer = try await api.request("GET", "/version")
        #expect(answer.status == 200)
        #expect(answer.contentType == "application/json;charset=utf-8")
        #expect(answer.body == "{\"version\": \"\(ControlRouter.version)\"}\n")
        #expect(answer.headers["x-toxiproxy-request-id"] != nil)
        await api.stop()
    }

    @Test func proxyLifecycle() async throws {
        let api = try await ControlAPIHarness.start()
        let echo = try await LoopbackServer.start(.echo)
        let created = try await api.request(
            "POST",
            "/proxies",
            #"{"name": "echo", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:\#(echo.port)"}"#
        )
        #expect(created.status == 201)
        #expect(created.contentType == "application/json")
        let listen = try #require(created.json?["listen"])
        guard case .string(let listenText) = listen else {
            Issue.record("listen not a string")
            return
        }
        let port = try #require(Int(listenText.split(separator: ":").last!))
        #expect(port != 0, "listen echoes the real bound port")
        #expect(created.json?["enabled"] == .bool(true))
        #expect(created.json?["toxics"] == .array([]))

        let all = try await api.request("GET", "/proxies")
        #expect(all.status == 200)
        #expect(
            all.json?["echo"]?["upstream"] == .string("127.0.0.1:\(echo.port)"),
            "GET /proxies is an object keyed by name"
        )

        let one = try await api.request("GET", "/proxies/echo")
        #expect(one.json?["name"] == .string("echo"))

        let duplicate = try await api.request("POST", "/proxies", #"{"name": "echo", "upstream": "127.0.0.1:1"}"#)
        #expect(duplicate.status == 409)
        #expect(duplicate.contentType == "text/plain; charset=utf-8")
        #expect(duplicate.body == #"{"error":"proxy already exists","status":409}"# + "\n")

        for method in ["POST", "PATCH"] {
            let disabled = try await api.request(method, "/proxies/echo", #"{"enabled": false}"#)
            #expect(disabled.status == 200)
            #expect(disabled.json?["enabled"] == .bool(false))
            #expect(try await blocking { (try? BlockingSocket(port: port)) == nil }, "disabled refuses connections")
            let enabled = try await api.request(method, "/proxies/echo", #"{"enabled": true}"#)
            #expect(enabled.json?["listen"] == listen, "re-enabled on the same port")
        }

        let deleted = try await api.request("DELETE", "/proxies/echo")
        #expect(deleted.status == 204)
        #expect(deleted.body.isEmpty)
        let gone = try await api.request("GET", "/proxies/echo")
        #expect(gone.status == 404)
        #expect(gone.body == #"{"error":"proxy not found","status":404}"# + "\n")
        await echo.stop()
        await api.stop()
    }

    @Test func missingFieldsUseToxiproxysMessages() async throws {
        let api = try await ControlAPIHarness.start()
        let noName = try await api.request("POST", "/proxies", #"{"upstream": "127.0.0.1:1"}"#)
        #expect(noName.status == 400)
        #expect(noName.json?["error"] == .string("missing required field: name"))
        let noUpstream = try await api.request("POST", "/proxies", #"{"name": "x"}"#)
        #expect(noUpstream.json?["error"] == .string("missing required field: upstream"))
        let empty = try await api.request("POST", "/proxies", "")
        #expect(empty.json?["error"] == .string("bad request body: EOF"))
        await api.stop()
    }

    @Test func faultAddedThroughTheAPIChangesAnOpenConnection() async throws {
        let api = try await ControlAPIHarness.start()
        let echo = try await LoopbackServer.start(.echo)
        let port = try await api.createProxy("echo", upstream: echo.port)
        let socket = try await blocking { try BlockingSocket(port: port) }
        @Sendable func roundTrip() throws -> Double {
            let start = Date()
            try socket.send("x")
            guard case .data = socket.read(timeout: 5) else { return .infinity }
            return Date().timeIntervalSince(start)
        }
        #expect(try await blocking { try roundTrip() } < 0.1)
        let created = try await api.request(
            "POST",
            "/proxies/echo/toxics",
            #"{"name": "slow", "type": "latency", "stream": "downstream", "toxicity": 1.0, "attributes": {"latency": 150}}"#
        )
        #expect(created.status == 200, "toxic create answers 200 as Toxiproxy does")
        #expect(created.json?["attributes"] == .object(["latency": .number(150), "jitter": .number(0)]))
        #expect(try await blocking { try roundTrip() } >= 0.150)
        let removed = try await api.request("DELETE", "/proxies/echo/toxics/slow")
        #expect(removed.status == 204)
        #expect(try await blocking { try roundTrip() } < 0.1)
        await echo.stop()
        await api.stop()
    }

    @Test func toxicEndpoints() async throws {
        let api = try await ControlAPIHarness.start()
        _ = try await api.createProxy("p", upstream: 9)
        let nullAttributes = try await api.request(
            "POST",
            "/proxies/p/toxics",
            #"{"name": "r", "type": "reset_peer", "attributes": null}"#
        )
        #expect(nullAttributes.status == 200)
        #expect(nullAttributes.json?["attributes"] == .object(["timeout": .number(0)]))
        let caseInsensitive = try await api.request(
            "POST",
            "/proxies/p/toxics",
            #"{"Type": "latency", "Stream": "upstream", "Attributes": {"Latency": 7}}"#
        )
        #expect(caseInsensitive.json?["name"] == .string("latency_upstream"))
        #expect(caseInsensitive.json?["attributes"]?["latency"] == .number(7))

        let list = try await api.request("GET", "/proxies/p/toxics")
        #expect(list.json?[0]?["name"] == .string("latency_upstream"), "upstream toxics are listed first")
        #expect(list.json?[1]?["name"] == .string("r"))

        let fetched = try await api.request("GET", "/proxies/p/toxics/r")
        #expect(fetched.json?["type"] == .string("reset_peer"))

        let patched = try await api.request(
            "PATCH",
            "/proxies/p/toxics/latency_upstream",
            #"{"attributes": {"jitter": 3}}"#
        )
        #expect(patched.status == 200)
        #expect(
            patched.json?["attributes"] == .object(["latency": .number(7), "jitter": .number(3)]),
            "attributes are merged"
        )
        let posted = try await api.request("POST", "/proxies/p/toxics/latency_upstream", #"{"toxicity": 0.5}"#)
        #expect(posted.json?["toxicity"] == .number(0.5))

        let duplicate = try await api.request("POST", "/proxies/p/toxics", #"{"name": "r", "type": "latency"}"#)
        #expect(duplicate.status == 409)
        #expect(duplicate.json?["error"] == .string("toxic already exists"))
        let badStream = try await api.request(
            "POST",
            "/proxies/p/toxics",
            #"{"type": "latency", "stream": "sideways"}"#
        )
        #expect(badStream.status == 400)
        #expect(badStream.json?["error"] == .string("stream was invalid, can be either upstream or downstream"))
        let badType = try await api.request("POST", "/proxies/p/toxics", #"{"type": "teleport"}"#)
        #expect(badType.status == 400)
        #expect(badType.body.contains("invalid toxic type"))
        let missingToxic = try await api.request("GET", "/proxies/p/toxics/nope")
        #expect(missingToxic.status == 404)
        #expect(missingToxic.json?["error"] == .string("toxic not found"))
        let missingProxy = try await api.request("POST", "/proxies/nope/toxics", #"{"type": "latency"}"#)
        #expect(missingProxy.json?["error"] == .string("proxy not found"))
        let squallFault = try await api.request(
            "POST",
            "/proxies/p/toxics",
            #"{"type": "limit_time", "attributes": {"lifetime": "2s"}}"#
        )
        #expect(
            squallFault.json?["attributes"]?["lifetime"] == .number(2000),
            "Squall's own faults use the same endpoint"
        )

        let reset = try await api.request("POST", "/reset")
        #expect(reset.status == 204)
        #expect(reset.body.isEmpty)
        #expect(try await api.request("GET", "/proxies/p/toxics").json == .array([]))
        await api.stop()
    }

    @Test func populateAppliesFaultsAndReportsErrorsWithProxies() async throws {
        let api = try await ControlAPIHarness.start()
        let body =
            #"[{"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9", "toxics": [{"type": "latency", "attributes": {"latency": 5}}]}, {"name": "b", "upstream": "127.0.0.1:10", "enabled": false}]"#
        let populated = try await api.request("POST", "/populate", body)
        #expect(populated.status == 201)
        #expect(
            populated.json?["proxies"]?[0]?["toxics"]?[0]?["type"] == .string("latency"),
            "toxics in populate entries are applied"
        )
        #expect(populated.json?["proxies"]?[1]?["enabled"] == .bool(false))
        let bad = try await api.request("POST", "/populate", #"[{"name": "c"}]"#)
        #expect(bad.status == 400)
        #expect(bad.contentType == "application/json")
        #expect(bad.json?["error"] == .string("missing required field: upstream"))
        #expect(bad.json?["proxies"] == .null)
        await api.stop()
    }

    @Test func metricsMoveWhileATransferIsInProgress() async throws {
        let api = try await ControlAPIHarness.start()
        let source = try await LoopbackServer.start(.send(count: 400_000))
        let port = try await api.createProxy("slow", upstream: source.port)
        _ = try await api.request(
            "POST",
            "/proxies/slow/toxics",
            #"{"type": "bandwidth", "attributes": {"rate": 200}}"#
        )
        let socket = try await blocking { try BlockingSocket(port: port) }
        func sentBytes() async throws -> Int {
            let metrics = try await api.request("GET", "/metrics")
            #expect(metrics.contentType.hasPrefix("text/plain; version=0.0.4"))
            let line = metrics.body.split(separator: "\n").first {
                $0.hasPrefix("squall_proxy_sent_bytes_total{proxy=\"slow\",direction=\"downstream\"}")
            }
            return Int(line?.split(separator: " ").last ?? "") ?? -1
        }
        _ = try await blocking { socket.read(exactly: 50_000, timeout: 5) }
        let first = try await sentBytes()
        _ = try await blocking { socket.read(exactly: 100_000, timeout: 5) }
        let second = try await sentBytes()
        #expect(first >= 50_000)
        #expect(second >= 150_000 && second > first, "counters are live, not updated only when the connection ends")
        #expect(second < 400_000, "the transfer is still in progress")
        let metrics = try await api.request("GET", "/metrics")
        #expect(metrics.body.contains("squall_proxy_connections_active{proxy=\"slow\"} 1"))
        #expect(metrics.body.contains("squall_proxy_faults_applied_total{proxy=\"slow\",type=\"bandwidth\"} 1"))
        #expect(metrics.body.contains("toxiproxy_proxy_received_bytes_total{direction=\"upstream\""))
        withExtendedLifetime(socket) {}
        await source.stop()
        await api.stop()
    }

    @Test func connectionsAreListedAndCanBeCut() async throws {
        let api = try await ControlAPIHarness.start()
        let echo = try await LoopbackServer.start(.echo)
        let port = try await api.createProxy("echo", upstream: echo.port)
        let first = try await blocking { try BlockingSocket(port: port) }
        let second = try await blocking { try BlockingSocket(port: port) }
        try await blocking { try first.send("12345") }
        _ = try await blocking { first.read(timeout: 5) }
        #expect(
            await Eventually.wait {
                (try? await api.request("GET", "/proxies/echo/connections").json?[1]) != nil
            }
        )
        // The proxy listens on every event loop, so two connections opened at once may be numbered either way:
        // find each by its client address, as a user of the listing does.
        let listed = try await api.request("GET", "/proxies/echo/connections")
        let entries = listed.json?.arrayValue ?? []
        func entry(of socket: BlockingSocket) -> JSONValue? {
            entries.first { $0["client"]?.stringValue == "127.0.0.1:\(socket.localPort)" }
        }
        let firstEntry = try #require(entry(of: first), "\(entries)")
        let secondEntry = try #require(entry(of: second), "\(entries)")
        #expect(Set([firstEntry["id"], secondEntry["id"]]) == [.number(1), .number(2)])
        #expect(firstEntry["bytes_from_client"] == .number(5))
        #expect(firstEntry["bytes_to_client"] == .number(5))
        let firstID = Int(firstEntry["id"]?.numberValue ?? 0)
        let secondID = Int(secondEntry["id"]?.numberValue ?? 0)

        // A fault with a connection selector acts on the chosen connection only.
        let targeted = try await api.request(
            "POST",
            "/proxies/echo/toxics",
            #"{"name": "only2", "type": "latency", "connections": [\#(secondID)], "attributes": {"latency": 200}}"#
        )
        #expect(targeted.json?["connections"] == .array([.number(Double(secondID))]))
        let (fast, slow) = try await blocking { () -> (Double, Double) in
            var start = Date()
            try first.send("a")
            _ = first.read(timeout: 5)
            let fast = Date().timeIntervalSince(start)
            start = Date()
            try second.send("b")
            _ = second.read(timeout: 5)
            return (fast, Date().timeIntervalSince(start))
        }
        #expect(fast < 0.15)
        #expect(slow >= 0.2)

        let cut = try await api.request("DELETE", "/proxies/echo/connections/\(firstID)?mode=reset")
        #expect(cut.status == 204)
        #expect(try await blocking { first.readToEnd(timeout: 5).end } == .reset)
        let fin = try await api.request("DELETE", "/proxies/echo/connections/\(secondID)")
        #expect(fin.status == 204)
        #expect(try await blocking { second.readToEnd(timeout: 5).end } == .endOfFile)
        let missing = try await api.request("DELETE", "/proxies/echo/connections/99")
        #expect(missing.status == 404)
        let badMode = try await api.request("DELETE", "/proxies/echo/connections/1?mode=explode")
        #expect(badMode.status == 400)
        await echo.stop()
        await api.stop()
    }

    @Test func browsersAreRefused() async throws {
        let api = try await ControlAPIHarness.start()
        let byAgent = try await api.request(
            "POST",
            "/reset",
            headers: ["User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"]
        )
        #expect(byAgent.status == 403)
        #expect(byAgent.json?["error"] == .string("User agent not allowed"))
        let byOrigin = try await api.request(
            "POST",
            "/proxies",
            #"{"name":"x","upstream":"127.0.0.1:1"}"#,
            headers: ["Origin": "https://evil.example"]
        )
        #expect(byOrigin.status == 403)
        #expect(try await api.request("GET", "/proxies").json == .object([:]), "nothing was created")
        await api.stop()
    }

    /// Each malformed request gets a 4xx with the JSON error body, and the server keeps serving.
    @Test(
        arguments: [
            ("POST", "/proxies", "not json", 400, "bad request body: invalid JSON"),
            ("POST", "/proxies", #"{"name": 5, "upstream": "127.0.0.1:1"}"#, 400, "expected a string, found number 5"),
            ("POST", "/proxies", #"[1, 2]"#, 400, "bad request body"),
            ("POST", "/proxies", #"{"name": "x", "upstream": "nowhere"}"#, 400, "expected \"host:port\""),
            (
                "POST", "/proxies", #"{"name": "x", "upstream": "127.0.0.1:1", "enabled": "yes"}"#, 400,
                "expected true or false"
            ),
            (
                "POST", "/proxies/target/toxics", #"{"type": "bandwidth", "attributes": {"rate": -1}}"#, 400,
                "attributes.rate: expected a rate in KB/s ≥ 0"
            ),
            (
                "POST", "/proxies/target/toxics", #"{"type": "slicer", "attributes": {"average_size": 0}}"#, 400,
                "average_size"
            ),
            (
                "POST", "/proxies/target/toxics", #"{"type": "latency", "toxicity": 2.5}"#, 400,
                "toxicity: expected a probability in 0...1"
            ),
            (
                "POST", "/proxies/target/toxics", #"{"type": "latency", "attributes": {"latency": "soon"}}"#, 400,
                "attributes.latency"
            ),
            (
                "POST", "/proxies/target/toxics", #"{"type": "latency", "attributes": {"latency": 1e300}}"#, 400,
                "attributes.latency"
            ),
            ("POST", "/proxies/target/toxics", #"{"type": "latency", "connections": ["one"]}"#, 400, "connections[0]"),
            ("POST", "/proxies/target/toxics", #"{"type": "latency""#, 400, "invalid JSON"),
            ("PATCH", "/proxies/target", "", 400, "bad request body: EOF"),
            ("GET", "/nowhere", nil, 404, "404 page not found"),
            ("PUT", "/proxies", #"{}"#, 405, "method not allowed"),
            ("DELETE", "/version", nil, 405, "method not allowed"),
        ] as [(String, String, String?, Int, String)]
    )
    func malformedRequestsGet4xxWithAJSONError(
        method: String,
        path: String,
        body: String?,
        status: Int,
        message: String
    ) async throws {
        let api = try await ControlAPIHarness.start()
        _ = try await api.createProxy("target", upstream: 9)
        let answer = try await api.request(method, path, body)
        #expect(answer.status == status)
        guard case .string(let error)? = answer.json?["error"] else {
            Issue.record("no JSON error body: \(answer.body)")
            await api.stop()
            return
        }
        #expect(error.contains(message), "got: \(error)")
        #expect(answer.json?["status"] == .number(Double(status)))
        #expect(try await api.request("GET", "/version").status == 200, "still serving")
        #expect(try await api.request("GET", "/proxies/target/toxics").json == .array([]), "nothing half-applied")
        await api.stop()
    }

    @Test func anOversizedBodyIsRefusedFromItsAnnouncedLengthBeforeItIsSent() async throws {
        let api = try await ControlAPIHarness.start()
        let port = api.port
        let answer = try await blocking { () throws -> String in
            let socket = try BlockingSocket(port: port)
            let announced = 64 << 20
            try socket.send("POST /proxies HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(announced)\r\n\r\n[")
            // Only one byte of the 64 MiB was sent: the answer comes from the head alone (head and body may come
            // in separate reads).
            var text = ""
            while !text.contains("}"), case .data(let bytes) = socket.read(timeout: 5) {
                text += String(decoding: bytes, as: UTF8.self)
            }
            return text
        }
        #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer)")
        #expect(answer.contains("\"status\":413"), "a JSON body: \(answer)")
        #expect(try await api.request("GET", "/version").status == 200, "still serving")
        await api.stop()
    }

    @Test func hugeTruncatedAndGarbageRequestsLeaveTheServerServing() async throws {
        let api = try await ControlAPIHarness.start()
        let huge = try await api.request("POST", "/proxies", String(repeating: "x", count: 2 << 20))
        #expect(huge.status == 413)
        #expect(huge.json?["status"] == .number(413))

        let port = api.port
        let garbage = try await blocking { () -> String in
            let socket = try BlockingSocket(port: port)
            try socket.send([0x16, 0x03, 0x01, 0x00, 0xFF] + Array("\r\n\r\nGARBAGE \0\0\0 HTTP/9\r\n\r\n".utf8))
            return String(decoding: socket.readToEnd(timeout: 5).bytes, as: UTF8.self)
        }
        #expect(garbage.hasPrefix("HTTP/1.1 400"))
        #expect(garbage.contains(#""status":400"#))

        let truncated = try await blocking { () -> BlockingSocket.ReadOutcome in
            let socket = try BlockingSocket(port: port)
            try socket.send("POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"name\":")
            socket.shutdownWrite()
            return socket.readToEnd(timeout: 5).end
        }
        #expect(truncated != .timedOut, "a truncated body ends the connection instead of hanging it")

        #expect(try await api.request("GET", "/version").status == 200)
        #expect(try await api.request("GET", "/proxies").json == .object([:]))
        await api.stop()
    }
}

/// DNS rebinding: a request naming a foreign host is refused; loopback names pass.
@Suite struct ControlAPIHostTests {
    private func status(port: Int, host: String) async throws -> (Int, String) {
        try await blocking {
            let socket = try BlockingSocket(port: port)
            try socket.send("GET /proxies HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
            let text = String(decoding: socket.readToEnd(timeout: 5).bytes, as: UTF8.self)
            let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
            return (status, text)
        }
    }

    @Test func aForeignHostIsRefusedWith403AndAJSONBody() async throws {
        let api = try await ControlAPIHarness.start()
        let (status, text) = try await self.status(port: api.port, host: "rebound.example:8474")
        #expect(status == 403, "\(text)")
        #expect(text.contains(#""error":"Host \"rebound.example\" not allowed"#), "\(text)")
        await api.stop()
    }

    @Test(arguments: ["127.0.0.1:8474", "localhost", "LOCALHOST:1", "[::1]:8474"])
    func loopbackHostsPass(host: String) async throws {
        let api = try await ControlAPIHarness.start()
        let (status, text) = try await self.status(port: api.port, host: host)
        #expect(status == 200, "\(text)")
        await api.stop()
    }
}
