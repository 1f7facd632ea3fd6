import Foundation
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Network handoffs and profiles, observed from real clients.
@Suite struct HandoffTests {
    private func openConnections(_ count: Int, port: Int) async throws -> [BlockingSocket] {
        var sockets: [BlockingSocket] = []
        for index in 0..<count {
            let socket = try await blocking { try BlockingSocket(port: port) }
            try await blocking { try socket.send([UInt8(index)]) }
            #expect(try await blocking { socket.read(timeout: 5) } == .data([UInt8(index)]))
            sockets.append(socket)
        }
        return sockets
    }

    @Test(arguments: [Handoff.CutMode.reset, .fin])
    func handoffCutsEveryLiveConnectionAndRefusesDuringTheBlackout(mode: Handoff.CutMode) async throws {
        try await withProxy { proxy, _ in
            let port = proxy.port
            let sockets = try await self.openConnections(20, port: port)
            let report = await proxy.handoff(
                Handoff(mode: mode, blackout: .milliseconds(600), to: NetworkProfile.named("lte"))
            )
            #expect(report.connectionsCut == 20)
            let ends = try await blocking { sockets.map { $0.readToEnd(timeout: 5).end } }
            #expect(ends == Array(repeating: mode == .reset ? .reset : .endOfFile, count: 20))
            let refusedDuringBlackout = try await blocking { (try? BlockingSocket(port: port)) == nil }
            #expect(refusedDuringBlackout)
            #expect(
                await Eventually.wait { (try? BlockingSocket(port: port)) != nil },
                "accepting again after the blackout"
            )
            #expect(proxy.faults.map(\.name).contains("profile.lte.latency_downstream"), "the new profile applies")
            let (reply, elapsed) = try await blocking {
                let socket = try BlockingSocket(port: port)
                let start = Date()
                try socket.send("after")
                return (socket.read(timeout: 5), Date().timeIntervalSince(start))
            }
            #expect(reply == .data(Array("after".utf8)))
            #expect(elapsed >= 0.115, "lte adds 65 ms up and 50 ms down")
        }
    }

    @Test func blackholeHandoffLeavesConnectionsHalfOpen() async throws {
        try await withProxy { proxy, _ in
            let port = proxy.port
            let sockets = try await self.openConnections(20, port: port)
            let report = await proxy.handoff(Handoff(mode: .blackhole, blackout: .seconds(3), during: .blackhole))
            #expect(report.connectionsCut == 20)
            let duringBlackout = try await blocking { () -> BlockingSocket.ReadOutcome in
                let socket = try BlockingSocket(port: port)
                try socket.send("hello")
                return socket.read(timeout: 0.3)
            }
            #expect(
                duringBlackout == .timedOut,
                "a connect during a black-holing blackout is accepted and never answered"
            )
            let outcomes = try await blocking { () -> [BlockingSocket.ReadOutcome] in
                for socket in sockets { try? socket.send("anyone?") }
                usleep(300_000)
                return sockets.map { $0.read(timeout: 0.01) }
            }
            #expect(outcomes == Array(repeating: .timedOut, count: 20), "open and silent: no data, no FIN, no RST")
        }
    }

    @Test func profileLatencyAndBandwidthAreMeasurable() async throws {
        try await withProxy(server: .send(count: 180_000)) { proxy, _ in
            try await proxy.setProfile(NetworkProfile.named("chrome-slow-4g"))
            let (firstByte, total, elapsed) = try await blocking {
                let start = Date()
                let socket = try BlockingSocket(port: proxy.port)
                var firstByte = Double.infinity
                var total = 0
                while total < 180_000, case .data(let bytes) = socket.read(timeout: 5) {
                    if total == 0 { firstByte = Date().timeIntervalSince(start) }
                    total += bytes.count
                }
                return (firstByte, total, Date().timeIntervalSince(start))
            }
            #expect(total == 180_000)
            #expect(firstByte >= 0.075, "75 ms one-way latency downstream")
            // 180 000 bytes at 180 000 B/s, less the first 10 ms piece.
            #expect(elapsed >= 0.95)
            #expect(elapsed < 5)
        }
    }

    @Test func offlineProfileRefusesConnections() async throws {
        try await withProxy { proxy, _ in
            let port = proxy.port
            try await proxy.setProfile(NetworkProfile.named("offline"))
            #expect(try await blocking { (try? BlockingSocket(port: port)) == nil })
            try await proxy.setProfile(nil)
            #expect(try await blocking { (try? BlockingSocket(port: port)) != nil })
        }
    }

    @Test func profilesAndHandoffsAreValidated() throws {
        let good = try ProxyConfiguration.list(
            fromJSON: Array(#"[{"name":"a","upstream":"127.0.0.1:1","profile":"lte"}]"#.utf8)
        )
        #expect(good[0].profile?.name == "lte")
        do {
            _ = try ProxyConfiguration.list(
                fromJSON: Array(#"[{"name":"a","upstream":"127.0.0.1:1","profile":"5g"}]"#.utf8)
            )
            Issue.record("accepted an unknown profile")
        } catch {
            #expect("\(error)".contains("[0].profile: expected a network profile (wifi, lte"))
        }
        let handoff = try Handoff(
            json: try JSONValue.parse(Array(#"{"mode":"blackhole","blackout":"2s","to":"nlc-edge"}"#.utf8)),
            path: ""
        )
        #expect(handoff.mode == .blackhole && handoff.blackout == .seconds(2) && handoff.profile?.name == "nlc-edge")
        #expect(throws: FaultError.self) {
            try Handoff(json: try JSONValue.parse(Array(#"{"mode":"teleport"}"#.utf8)), path: "")
        }
        #expect(throws: FaultError.self) {
            try Handoff(json: try JSONValue.parse(Array(#"{"blackout":-1}"#.utf8)), path: "")
        }
    }

    @Test func handoffThroughTheControlAPI() async throws {
        let api = try await ControlAPIHarness.start()
        let echo = try await LoopbackServer.start(.echo)
        let port = try await api.createProxy("echo", upstream: echo.port)
        let sockets = try await self.openConnections(3, port: port)
        let answer = try await api.request(
            "POST",
            "/proxies/echo/handoff",
            #"{"mode": "reset", "blackout": "300ms", "to": "nlc-3g"}"#
        )
        #expect(answer.status == 200)
        #expect(answer.json?["connections_cut"] == .number(3))
        #expect(answer.json?["to"] == .string("nlc-3g"))
        #expect(try await blocking { sockets.map { $0.readToEnd(timeout: 5).end } } == [.reset, .reset, .reset])
        let all = try await api.request("POST", "/handoff", #"{"mode": "fin"}"#)
        #expect(all.json?["handoffs"]?[0]?["proxy"] == .string("echo"))
        let bad = try await api.request("POST", "/proxies/echo/handoff", #"{"to": "5g"}"#)
        #expect(bad.status == 400)
        let profiled = try await api.request("PATCH", "/proxies/echo", #"{"profile": "wifi"}"#)
        #expect(profiled.json?["profile"] == .string("wifi"))
        let cleared = try await api.request("PATCH", "/proxies/echo", #"{"profile": null}"#)
        #expect(cleared.json?["profile"] == .null)
        #expect(cleared.json?["toxics"] == .array([]))
        await echo.stop()
        await api.stop()
    }
}
