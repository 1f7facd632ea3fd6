import ArgumentParser
import Foundation
import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol
import SquallSession

/// `squall client`: follows one job with the reference hybrid client, printing its events as NDJSON.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Follow a job with the reference hybrid client; print its events as NDJSON.",
        discussion: """
            Exit status: 0 when the job completed, 1 when it failed (an error message), 70 when the client stopped \
            first (--duration or a signal), 64 on bad usage. Events: connect_attempt, connected, connect_failed, \
            closed, reconnect_attempt, fallback, poll, state_sync, recovered, delivered, duplicate_dropped, \
            finished, stopped (see the README for their fields).
            """
    )

    @Option(name: .long, help: "The server's (or the proxy's) base URL, e.g. http://127.0.0.1:8080.")
    var url: String

    @Option(name: .long, help: "The job to follow.")
    var job: String?

    @Option(name: .long, help: "The job's bearer token.")
    var token: String?

    @Flag(name: .long, help: "Create a job with POST /api/jobs first, instead of --job/--token.")
    var newJob = false

    @Option(name: .long, help: "Items in the job --new-job creates.")
    var totalItems: Int = 20

    @Option(name: .long, help: "Time between items of the job --new-job creates.")
    var itemInterval: String = "250ms"

    @Option(name: .long, help: "Strategy preset (see `squall client --help` and the README).")
    var strategy: String = "resilient"

    @Option(
        name: .long,
        help:
            "The ladder of transports, tried in order, instead of the preset's, e.g. \"sse,polling\" (websocket, sse, polling; polling last)."
    )
    var transports: String?

    @Option(name: .long, help: "Multiply every strategy duration by this (e.g. 0.1 runs the seeds' timings 10x fast).")
    var timeScale: Double = 1

    @Option(name: .long, help: "Seed for the backoff jitter.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "The client's name in its events.")
    var clientId: String = "client"

    @Option(name: .long, help: "Stop after this long even if the job has not finished, e.g. \"60s\".")
    var duration: String?

    func validate() throws {
        guard ServerAddress(url: self.url) != nil else {
            throw ValidationError("--url: expected http://host:port[/prefix], found \"\(self.url)\"")
        }
        guard ClientStrategy.preset(named: self.strategy) != nil else {
            let names = ClientStrategy.presets.map(\.name).joined(separator: ", ")
            throw ValidationError("--strategy: unknown preset \"\(self.strategy)\"; expected one of \(names)")
        }
        if let transports = self.transports, case .failure(let problem) = Self.ladder(transports) {
            let rung = problem.index.map { " (rung \($0 + 1))" } ?? ""
            throw ValidationError("--transports\(rung): expected \(problem.expected), found \(problem.found)")
        }
        guard self.timeScale > 0, self.timeScale <= 100 else {
            throw ValidationError("--time-scale must be more than 0 and at most 100, found \(self.timeScale)")
        }
        if !self.newJob, self.job == nil || self.token == nil {
            throw ValidationError("give --job and --token, or --new-job")
        }
        for (name, text) in [("--item-interval", self.itemInterval), ("--duration", self.duration ?? "1s")]
        where Duration(parsing: text) == nil {
            throw ValidationError("\(name): expected a duration such as \"60s\" or \"250ms\", found \"\(text)\"")
        }
    }

    /// The ladder `--transports` names, comma-separated.
    private static func ladder(
        _ text: String
    ) -> Result<[HybridClientStateMachine.Transport], TransportLadder.Problem> {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        return TransportLadder.parse(text.isEmpty ? [] : names)
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        let signals = ShutdownSignal()
        let server = ServerAddress(url: self.url)!
        var strategy = ClientStrategy.preset(named: self.strategy)!
        strategy.timeScale = self.timeScale
        if let transports = self.transports, case .success(let ladder) = Self.ladder(transports) {
            strategy.transports = ladder
        }
        let job: JobCreation.Created
        if self.newJob {
            do {
                job = try await JobCreationRequest(server: server).send(
                    JobCreation(totalItems: self.totalItems, itemInterval: Duration(parsing: self.itemInterval)!)
                )
            } catch {
                printError("squall client: \(error)")
                throw ExitStatus.usage
            }
        } else {
            job = JobCreation.Created(jobId: self.job!, token: self.token!)
        }
        let client = HybridClient(
            configuration: HybridClient.Configuration(
                server: server,
                jobId: job.jobId,
                token: job.token,
                clientId: self.clientId,
                strategy: strategy,
                seed: self.seed
            )
        )
        let limit = self.duration.flatMap { Duration(parsing: $0) }
        let outcome = await withTaskGroup(of: HybridClientStateMachine.Outcome?.self) { group in
            group.addTask { await client.run { print($0.jsonLine) } }
            group.addTask {
                _ = await signals.wait(upTo: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .completed: return
        case .failed: throw ExitCode(1)
        case nil: throw ExitStatus.internalError
        }
    }
}
