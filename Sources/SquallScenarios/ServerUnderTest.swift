import NIOCore
import SquallFaults
import SquallProxy
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer

/// The server a run plays against: the in-process reference server, or a team's own (``ExternalServer``). The
/// runner talks to both the same way: where the proxies point, how jobs are created, how publications reach the
/// log, how it ends.
enum ServerUnderTest: Sendable {
    /// The reference server, in-process; its publications are logged as they happen.
    case reference(ReferenceServer)
    /// A team's server; its publications are read back from the job-state endpoint at the end of the run.
    case external(ExternalServer)

    /// Starts the scenario's server.
    ///
    /// - Throws: ``ScenarioError/startFailed(part:reason:)``.
    static func start(
        _ spec: ServerSpec,
        clock: ScenarioClock,
        log: EventLog
    ) async throws(ScenarioError) -> ServerUnderTest {
        if let external = spec.external {
            return .external(try await ExternalServer.start(external, log: log))
        }
        var configuration = clock.played(spec.referenceConfiguration)
        configuration.port = 0
        do {
            return .reference(
                try await ReferenceServer.bind(configuration: configuration) { event in
                    log.record(time: event.time, line: event.jsonLine)
                }
            )
        } catch {
            throw .startFailed(part: "the reference server", reason: "\(error)")
        }
    }

    /// Where the proxies forward to.
    var upstream: HostAndPort {
        switch self {
        case .reference(let server): HostAndPort(host: "127.0.0.1", port: server.localAddress.port ?? 0)
        case .external(let server): HostAndPort(host: server.address.host, port: server.address.port)
        }
    }

    /// The path prefix the server's endpoints live under (`""` for the reference server).
    var pathPrefix: String {
        switch self {
        case .reference: ""
        case .external(let server): server.address.pathPrefix
        }
    }

    /// Serves until the run ends. For a server Squall started, an exit before then is logged (`server_exited`).
    func run(log: EventLog) async {
        switch self {
        case .reference(let server):
            await server.run()
        case .external(let server):
            guard let process = server.process, let ended = await process.waitForExit() else { return }
            log.record(.serverExited(status: "\(ended)", early: true))
        }
    }

    /// Creates a client's job (`POST /api/jobs` straight to the server, never through a proxy).
    ///
    /// - Throws: ``ReferenceClientError`` when an external server does not create it.
    func createJob(_ creation: JobCreation) async throws(ReferenceClientError) -> JobCreation.Created {
        switch self {
        case .reference(let server):
            return server.createJob(creation)
        case .external(let server):
            return try await JobCreationRequest(server: server.address).send(creation)
        }
    }

    /// Restarts the WebSocket side (the reference server only; validation refuses it for external ones).
    func restartStreams(downtime: Duration) {
        if case .reference(let server) = self {
            server.restartStreams(downtime: downtime)
        }
    }

    /// Logs what an external server published for each job, read from `GET /api/job-state/{id}?since=0` with the
    /// messages' own timestamps, so the loss, duplicate and latency checks work as for the reference server. A job
    /// whose state cannot be read is logged as `publications_unknown`.
    func recordPublications(of jobs: [JobCreation.Created], log: EventLog) async {
        guard case .external(let server) = self else { return }
        for job in jobs {
            switch await JobStateRequest(server: server.address, token: job.token).fetch(jobId: job.jobId, since: 0) {
            case .answered(let state):
                for message in state.messages where message.jobId == job.jobId {
                    let time = Double(message.timestamp)
                    log.record(
                        time: time,
                        line: JSONValue.object([
                            "time": .number(time), "source": .string("server"),
                            "event": .string(ReferenceServerEvent.publishedName),
                            "jobId": .string(job.jobId), "seq": .number(Double(message.seq)),
                            "type": .string(message.type.rawValue),
                            "observedVia": .string("job-state"),
                        ]).jsonText
                    )
                }
            case .failed(let status, let reason):
                log.record(.publicationsUnknown(jobId: job.jobId, status: status, reason: reason))
            }
        }
    }

    /// Stops the server.
    ///
    /// - Returns: the files to keep in the report folder (an external server's output).
    func close() async -> [String: String] {
        switch self {
        case .reference(let server):
            await server.close()
            return [:]
        case .external(let server):
            return await server.stop()
        }
    }
}
