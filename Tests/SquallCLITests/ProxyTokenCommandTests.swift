import Foundation
import SquallBenchmarks
import SquallTestSupport
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
private let clientPython = packageRoot + "/examples/toxiproxy-python/.venv/bin/python"

/// Whether `examples/toxiproxy-python/setup.sh` has installed Toxiproxy's Python client.
private let toxiproxyClientInstalled = PythonVenv.canImport("toxiproxy", python: clientPython)

/// `squall proxy` with a bearer token, as Toxiproxy 2.13 takes it (`TOXIPROXY_AUTH_TOKEN`, or the variable
/// `--auth-token-env` names), driven over raw HTTP and by Toxiproxy's own Python client.
@Suite struct ProxyTokenCommandTests {
    private static let secret = "tok-\(UUID().uuidString)"

    /// Starts `squall proxy` with `environment` and `arguments`; returns it and its control API's port.
    private func start(_ arguments: [String], environment: [String: String]) async throws -> (SquallProcess, Int) {
        // A proxy on a port of its own (the built-in echo proxy's fixed port would collide across tests).
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("squall-\(UUID()).json").path
        try #"[{"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}]"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        let process = try SquallProcess(
            ["proxy", "--port", "0", "--config", config] + arguments,
            environment: environment
        )
        var port: Int?
        _ = await Eventually.wait(timeout: 20) {
            let line = process.standardOutput.split(separator: "\n").first { $0.hasPrefix("control API: ") }
            port = line.flatMap { $0.split(separator: ":").last.flatMap { Int($0) } }
            return port != nil
        }
        return (process, try #require(port))
    }

    private func status(port: Int, _ method: String, _ path: String, token: String?) async throws -> Int {
        try await blocking {
            let socket = try BlockingSocket(port: port)
            var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n"
            if let token { head += "Authorization: Bearer \(token)\r\n" }
            try socket.send(head + "\r\n")
            let answer = String(decoding: socket.readToEnd(timeout: 5).bytes, as: UTF8.self)
            return Int(answer.dropFirst(9).prefix(3)) ?? 0
        }
    }

    @Test(arguments: [
        (["--auth-token-env", "MY_SQUALL_TOKEN"], ["MY_SQUALL_TOKEN": secret]),
        ([String](), ["TOXIPROXY_AUTH_TOKEN": secret]),
    ])
    func theTokenGuardsEveryEndpointAndIsNeverPrinted(
        arguments: [String],
        environment: [String: String]
    )
        async throws
    {
        let (process, port) = try await self.start(arguments, environment: environment)
        for (method, path) in [("GET", "/version"), ("GET", "/metrics"), ("GET", "/proxies"), ("POST", "/reset")] {
            #expect(try await self.status(port: port, method, path, token: nil) == 401, "\(path)")
            #expect(try await self.status(port: port, method, path, token: "nope") == 401, "\(path)")
            let allowed = try await self.status(port: port, method, path, token: Self.secret)
            #expect(allowed == 200 || allowed == 204, "\(path): \(allowed)")
        }
        process.signal(SIGTERM)
        let (status, errors) = await process.waitForExit()
        #expect(status == 0)
        #expect(process.standardOutput.contains("control API token: required"))
        #expect(!process.standardOutput.contains(Self.secret) && !errors.contains(Self.secret), "never printed")
    }

    @Test func aTokenVariableThatIsNotSetIsAUsageError() async throws {
        let result = try await SquallProcess.run(["proxy", "--port", "0", "--auth-token-env", "SQUALL_NO_SUCH_VAR"])
        #expect(!result.output.contains("running"), "it does not start")
        #expect(result.status == 64)
        #expect(result.errors.contains("the variable SQUALL_NO_SUCH_VAR is not set or is empty"), "\(result.errors)")
    }

    @Test func anAPIOnEveryInterfaceWithoutATokenIsWarnedAbout() async throws {
        let (process, _) = try await self.start(["--host", "0.0.0.0", "--duration", "1s"], environment: [:])
        let (status, errors) = await process.waitForExit()
        #expect(status == 0)
        #expect(errors.contains("warning: the control API listens on 0.0.0.0 without a token"), "\(errors)")
        let (quiet, _) = try await self.start(["--duration", "1s"], environment: [:])
        let (_, quietErrors) = await quiet.waitForExit()
        #expect(!quietErrors.contains("warning"), "no warning on loopback")
    }

    @Test(.enabled(if: toxiproxyClientInstalled, "needs bash examples/toxiproxy-python/setup.sh"))
    func toxiproxysPythonClientWorksWithTheTokenAndChangesNothingWithout() async throws {
        let upstream = try await LoopbackServer.start(.echo)
        let (process, port) = try await self.start([], environment: ["TOXIPROXY_AUTH_TOKEN": Self.secret])
        @Sendable func drive(_ token: String?) throws -> String {
            let python = Process()
            python.executableURL = URL(fileURLWithPath: clientPython)
            python.arguments =
                [packageRoot + "/examples/toxiproxy-python/drive.py", String(port), String(upstream.port)]
                + (token.map { [$0] } ?? [])
            let output = Pipe()
            python.standardOutput = output
            try python.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            python.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let refused = try await blocking { try drive(nil) }
        #expect(refused.contains(#""create": "error:"#), "\(refused)")
        #expect(try await self.status(port: port, "GET", "/proxies/py", token: Self.secret) == 404, "nothing created")
        let allowed = try await blocking { try drive(Self.secret) }
        #expect(
            allowed.trimmingCharacters(in: .whitespacesAndNewlines)
                == #"{"add_toxic": "ok", "create": "py", "destroy": true, "disable": false, "enable": true, "reset": true, "running": true, "toxics": ["latency_downstream"]}"#,
            "\(allowed)"
        )
        process.signal(SIGTERM)
        _ = await process.waitForExit()
        await upstream.stop()
    }
}
