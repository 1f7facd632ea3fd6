import ArgumentParser
import Foundation
import SquallFaults
import SquallReferenceProtocol
import SquallReferenceServer
import SquallSession

/// `squall serve`: runs the reference job-progress server until SIGINT or SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the reference job-progress server (WebSocket push + HTTP job state).",
        discussion: """
            Endpoints: POST /api/jobs {"totalItems": N, "itemInterval": "250ms"} -> 201 {"jobId", "token"}; \
            GET /ws/progress?jobId=… (WebSocket, Authorization: Bearer <token> or ?token=); \
            GET /api/job-state/{jobId}?since=N; GET /healthz. With --events, every server event (job_created, \
            published, stream_opened, stream_closed, state_served, job_expired) is printed as one NDJSON line. \
            Exit codes: 0 stopped by SIGINT/SIGTERM, 64 a port that cannot be bound or usage.
            """
    )

    @Option(name: .long, help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0 picks a free one).")
    var port: Int = 8080

    @Option(name: .long, help: "How often each WebSocket is pinged.")
    var pingInterval: String = "10s"

    @Option(name: .long, help: "A WebSocket that answers no ping for this long is closed.")
    var pongTimeout: String = "25s"

    @Option(name: .long, help: "How long finished jobs stay readable.")
    var retention: String = "5m"

    @Option(
        name: .long,
        help: "Start this many jobs at once and print their ids and tokens (handy with `squall client`)."
    )
    var jobs: Int = 0

    @Option(name: .long, help: "Items in each job started by --jobs.")
    var totalItems: Int = 20

    @Option(name: .long, help: "Time between items of jobs started by --jobs.")
    var itemInterval: String = "250ms"

    @Flag(name: .long, help: "Print every server event as NDJSON.")
    var events = false

    @Option(name: .long, help: "Stop by itself after this long, e.g. \"30s\" (default: run until a signal).")
    var duration: String?

    func validate() throws {
        guard (0...65535).contains(self.port) else {
            throw ValidationError("--port must be in 0...65535, found \(self.port)")
        }
        for (name, text) in [
            ("--ping-interval", self.pingInterval), ("--pong-timeout", self.pongTimeout),
            ("--retention", self.retention),
            ("--item-interval", self.itemInterval), ("--duration", self.duration ?? "1s"),
        ] where Duration(parsing: text) == nil {
            throw ValidationError("\(name): expected a duration such as \"10s\" or \"250ms\", found \"\(text)\"")
        }
        guard Duration(parsing: self.pingInterval)! > .zero else {
            throw ValidationError("--ping-interval must be more than 0")
        }
        guard (1...1_000_000).contains(self.totalItems) else {
            throw ValidationError("--total-items must be in 1...1000000, found \(self.totalItems)")
        }
        guard (0...10_000).contains(self.jobs) else {
            throw ValidationError("--jobs must be in 0...10000, found \(self.jobs)")
        }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        let signals = ShutdownSignal()
        let configuration = ReferenceServerConfiguration(
            host: self.host,
            port: self.port,
            pingInterval: Duration(parsing: self.pingInterval)!,
            pongTimeout: Duration(parsing: self.pongTimeout)!,
            retention: Duration(parsing: self.retention)!
        )
        let printEvents = self.events
        let server: ReferenceServer
        do {
            server = try await ReferenceServer.bind(configuration: configuration) { event in
                if printEvents { print(event.jsonLine) }
            }
        } catch {
            printError("squall serve: cannot listen on \(self.host):\(self.port): \(error)")
            throw ExitStatus.usage
        }
        print("job-progress server: \(server.baseURL)")
        for _ in 0..<self.jobs {
            let job = server.createJob(
                JobCreation(totalItems: self.totalItems, itemInterval: Duration(parsing: self.itemInterval)!)
            )
            print("job \(job.jobId) token \(job.token)")
        }
        print("running; SIGINT or SIGTERM stops")
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await server.run() }
            if let signal = await signals.wait(upTo: self.duration.flatMap { Duration(parsing: $0) }) {
                print("signal \(signal): closing every socket")
            }
            await server.close()
        }
        print("stopped")
    }
}
