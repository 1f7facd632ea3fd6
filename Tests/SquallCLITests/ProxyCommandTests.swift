import Foundation
import SquallBenchmarks
import SquallTestSupport
import Testing

/// The `squall` binary as a user runs it.
@Suite struct ProxyCommandTests {
    private func writeConfig(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("squall-\(UUID().uuidString).json")
            .path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func proxyCarriesTrafficWithFaultsAndStopsOnSigterm() async throws {
        let server = try await LoopbackServer.start(.echo)
        let config = try self.writeConfig(
            #"[{"name": "api", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:\#(server.port)", "toxics": [{"type": "latency", "attributes": {"latency": 100}}]}]"#
        )
        let process = try SquallProcess(["proxy", "--config", config, "--seed", "7", "--port", "0"])
        var port: Int?
        _ = await Eventually.wait(timeout: 20) {
            let line = process.standardOutput.split(separator: "\n").first { $0.hasPrefix("proxy api: ") }
            port = line.flatMap { $0.split(separator: " ")[2].split(separator: ":").last.flatMap { Int($0) } }
            return port != nil
        }
        let listenPort = try #require(port)
        let (reply, elapsed) = try await blocking {
            let socket = try BlockingSocket(port: listenPort)
            let start = Date()
            try socket.send("hello")
            return (socket.read(timeout: 5), Date().timeIntervalSince(start))
        }
        #expect(reply == .data(Array("hello".utf8)))
        #expect(elapsed >= 0.1)
        process.signal(SIGTERM)
        let (status, _) = await process.waitForExit()
        #expect(status == 0)
        #expect(process.standardOutput.contains("stopped"))
        let refused = try await blocking { (try? BlockingSocket(port: listenPort)) == nil }
        #expect(refused, "every socket is closed after SIGTERM")
        await server.stop()
    }

    @Test func badConfigurationExits64NamingTheProblem() async throws {
        let config = try self.writeConfig(
            #"[{"name": "api", "upstream": "127.0.0.1:9", "toxics": [{"name": "slow", "type": "bandwidth", "attributes": {"rate": -1}}]}]"#
        )
        let result = try await SquallProcess.run(["proxy", "--config", config])
        #expect(result.status == 64)
        #expect(
            result.errors.contains(#"proxy "api": fault "slow": [0].toxics[0].attributes.rate"#),
            "\(result.errors)"
        )
    }

    @Test func missingConfigFileExits64() async throws {
        let result = try await SquallProcess.run(["proxy", "--config", "/nonexistent/proxies.json"])
        #expect(result.status == 64)
        #expect(result.errors.contains("cannot read /nonexistent/proxies.json"))
    }

    @Test func builtInDefaultRunsAnEchoProxy() async throws {
        let result = try await SquallProcess.run(["proxy", "--duration", "300ms", "--port", "0"])
        #expect(result.status == 0)
        #expect(result.output.contains("proxy echo: 127.0.0.1:22220"))
    }

    @Test func faultsCommandListsEveryType() async throws {
        let result = try await SquallProcess.run(["faults"])
        #expect(result.status == 0)
        for type in [
            "latency", "bandwidth", "slicer", "slow_close", "limit_data", "timeout", "limit_time", "reset_peer",
            "blackhole", "down", "refuse", "slow_open", "connect_blackhole",
        ] {
            #expect(result.output.contains("\(type):"))
        }
    }
}
