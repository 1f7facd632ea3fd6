import Foundation
import NIOCore
import NIOPosix
import SquallFaults
import SquallReferenceClient

/// A team's own job-progress server in a run: started by its command when the scenario gives one (with `{port}`
/// filled in), waited for until `readyPath` answers, and stopped at the end with its output kept.
struct ExternalServer: Sendable {
    /// Where it listens.
    let address: ServerAddress
    /// The process Squall started, if any.
    let process: ChildProcess?

    /// Starts (when there is a command) and waits for the server.
    ///
    /// - Throws: ``ScenarioError/startFailed(part:reason:)`` when the command cannot start, exits, or the server
    ///   does not answer within `readyTimeout` — with the tail of its output.
    static func start(_ spec: ExternalServerSpec, log: EventLog) async throws(ScenarioError) -> ExternalServer {
        var url = spec.url
        var command = spec.command
        if url.contains("{port}") || command?.arguments.contains(where: { $0.contains("{port}") }) == true {
            let port = try await Self.freePort()
            url = url.replacingOccurrences(of: "{port}", with: "\(port)")
            if var filled = command {
                filled.arguments = filled.arguments.map { $0.replacingOccurrences(of: "{port}", with: "\(port)") }
                filled.environment["SQUALL_SERVER_PORT"] = "\(port)"
                command = filled
            }
        }
        guard let address = ServerAddress(url: url) else {
            throw .startFailed(part: "the external server", reason: "\(url) is not an http://host:port URL")
        }
        var process: ChildProcess?
        if let command {
            let started = try await ChildProcess.start(
                arguments: command.arguments,
                environment: command.environment,
                part: "the external server",
                grace: .seconds(5)
            )
            process = started
            log.record(.serverStarted(command: started.commandLine, pid: Int(started.pid), url: url))
        }
        let server = ExternalServer(address: address, process: process)
        let probe = ServerProbe(server: address, timeout: .seconds(2))
        let clock = ContinuousClock()
        let deadline = clock.now + spec.readyTimeout
        var lastFailure = "no answer yet"
        while clock.now < deadline {
            if let ended = process?.exited {
                let logs = await server.stop()
                throw .startFailed(
                    part: "the external server",
                    reason:
                        "\(process!.commandLine) ended (\(ended)) before \(url)\(spec.readyPath) answered\(Self.tail(logs))"
                )
            }
            let answer = await probe.status(of: spec.readyPath)
            if let status = answer.status, status < 500 {
                log.record(.serverReady(url: url, readyPath: spec.readyPath, status: status))
                return server
            }
            lastFailure = answer.status.map { "HTTP \($0)" } ?? answer.failure ?? "no answer"
            try? await Task.sleep(for: .milliseconds(100))
            if Task.isCancelled { break }
        }
        let logs = await server.stop()
        throw .startFailed(
            part: "the external server",
            reason:
                "\(url)\(spec.readyPath) did not answer within \(spec.readyTimeout.squallText) (last: \(lastFailure))\(Self.tail(logs))"
        )
    }

    /// Stops the process (SIGTERM, then SIGKILL after 5 s) and returns its output files: `server-stdout.log` and
    /// `server-stderr.log` (nothing when Squall did not start it).
    @discardableResult
    func stop() async -> [String: String] {
        guard let process = self.process else { return [:] }
        await process.stop()
        let (output, errors) = await process.output()
        return ["server-stdout.log": output, "server-stderr.log": errors]
    }

    private static func tail(_ logs: [String: String]) -> String {
        let text = (logs["server-stderr.log"] ?? "") + (logs["server-stdout.log"] ?? "")
        guard !text.isEmpty else { return "" }
        let lines = text.split(separator: "\n").suffix(8).joined(separator: "\n    ")
        return "; its last output:\n    " + lines
    }

    /// A free loopback port: bound, read and released (the server binds it right after).
    private static func freePort() async throws(ScenarioError) -> Int {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            let port = channel.localAddress?.port ?? 0
            try await channel.close()
            return port
        } catch {
            throw .startFailed(part: "the external server", reason: "no free loopback port: \(error)")
        }
    }
}
