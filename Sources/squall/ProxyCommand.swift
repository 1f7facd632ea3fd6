import ArgumentParser
import Foundation
import NIOCore
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallSession

/// `squall proxy`: runs named fault-injecting proxies until SIGINT or SIGTERM.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run fault-injecting TCP proxies until SIGINT/SIGTERM.",
        discussion: """
            --config takes a JSON array in Toxiproxy's populate shape: \
            [{"name", "listen", "upstream", "enabled", "toxics": [faults]}]. Without --config, Squall starts a \
            built-in echo server and one proxy "echo" in front of it on 127.0.0.1:22220, so you can try faults at once. \
            Exit codes: 0 stopped by SIGINT/SIGTERM, 64 an invalid proxies file (its JSON path named), a port that \
            cannot be bound, or usage.
            """
    )

    @Option(name: .long, help: "Path of the proxies JSON file.")
    var config: String?

    @Option(name: .long, help: "Seed for every random choice (toxicity draws, jitter, slicing).")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Stop by itself after this long, e.g. \"30s\" (default: run until a signal).")
    var duration: String?

    @Option(name: .long, help: "Address the control API listens on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port of the control API (Toxiproxy's 8474 by default; 0 picks a free port).")
    var port: Int = 8474

    @Option(
        name: .long,
        help: "A host name the control API accepts in Host besides loopback and --host (repeatable; * accepts any)."
    )
    var allowHost: [String] = []

    @Option(
        name: .long,
        help: """
            The environment variable holding the bearer token every control-API request must carry \
            (Authorization: Bearer <token>). Default: TOXIPROXY_AUTH_TOKEN, when it is set.
            """
    )
    var authTokenEnv: String?

    /// The token the control API requires: from the variable `--auth-token-env` names, or Toxiproxy's
    /// `TOXIPROXY_AUTH_TOKEN`; nil when neither is set.
    private func token() throws -> ControlToken? {
        let environment = ProcessInfo.processInfo.environment
        guard let name = self.authTokenEnv else {
            return environment["TOXIPROXY_AUTH_TOKEN"].flatMap { ControlToken($0) }
        }
        guard let value = environment[name], let token = ControlToken(value) else {
            printError("squall proxy: --auth-token-env \(name): the variable \(name) is not set or is empty")
            throw ExitStatus.usage
        }
        return token
    }

    func validate() throws {
        guard (0...65535).contains(self.port) else {
            throw ValidationError("--port must be in 0...65535, found \(self.port)")
        }
        if let duration, Duration(parsing: duration) == nil {
            throw ValidationError("--duration: expected a duration such as \"30s\" or \"500ms\", found \"\(duration)\"")
        }
    }

    func run() async throws {
        // Line-buffer standard output so a supervising process sees the listen addresses at once.
        StandardOutput.useLineBuffering()
        let signals = ShutdownSignal()
        let token = try self.token()
        var configurations: [ProxyConfiguration]
        var echo: LoopbackServer?
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else {
                printError("squall proxy: cannot read \(config)")
                throw ExitStatus.usage
            }
            do {
                configurations = try ProxyConfiguration.list(fromJSON: Array(data))
            } catch {
                printError("squall proxy: \(config): \(error)")
                throw ExitStatus.usage
            }
        } else {
            let server = try await LoopbackServer.start(.echo)
            echo = server
            configurations = [
                ProxyConfiguration(
                    name: "echo",
                    listen: HostAndPort(host: "127.0.0.1", port: 22220),
                    upstream: HostAndPort(host: "127.0.0.1", port: server.port)
                )
            ]
            print("no --config: built-in echo server on 127.0.0.1:\(server.port)")
        }
        let collection = ProxyCollection(seed: self.seed)
        let api: ControlServer
        do {
            for configuration in configurations {
                let proxy = try await collection.create(configuration)
                let faults = configuration.faults.map { "\($0.name) (\($0.type.rawValue), \($0.direction.rawValue))" }
                print(
                    "proxy \(configuration.name): \(proxy.listenText) -> \(configuration.upstream)"
                        + (configuration.enabled ? "" : " [disabled]")
                        + (faults.isEmpty ? "" : ", faults: " + faults.joined(separator: ", "))
                )
            }
            api = try await ControlServer.bind(
                host: self.host,
                port: self.port,
                router: ControlRouter(
                    collection: collection,
                    allowedHosts: self.allowHost.contains("*") ? nil : Set(self.allowHost + [self.host]),
                    token: token
                )
            )
        } catch {
            printError("squall proxy: \(error)")
            await collection.stopAll()
            await echo?.stop()
            throw ExitStatus.usage
        }
        print("control API: http://\(api.localAddress.ipAddress ?? self.host):\(api.localAddress.port ?? self.port)")
        if token == nil, !ControlRouter.loopbackHosts.contains(self.host.lowercased()), !self.host.hasPrefix("127.") {
            printError(
                "squall proxy: warning: the control API listens on \(self.host) without a token: anyone who can reach "
                    + "it can reconfigure the proxies; set TOXIPROXY_AUTH_TOKEN (or --auth-token-env NAME)"
            )
        }
        print("control API token: " + (token == nil ? "none" : "required (Authorization: Bearer …)"))
        print("running; SIGINT or SIGTERM stops")
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await api.run() }
            if let signal = await signals.wait(upTo: self.duration.flatMap { Duration(parsing: $0) }) {
                print("signal \(signal): closing every socket")
            }
            await api.close()
        }
        await collection.stopAll()
        await echo?.stop()
        print("stopped")
    }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
