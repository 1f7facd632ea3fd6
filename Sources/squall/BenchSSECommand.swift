import ArgumentParser
import SquallBenchmarks

/// `squall bench sse`: event-stream throughput, direct and through the proxy's block-by-block reading.
struct BenchSSECommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sse",
        abstract: "Measure event-stream throughput direct and through the proxy (events cut into blocks).",
        discussion: """
            A loopback server answers each request with a chunked text/event-stream of --events events of about \
            100 bytes, --per-write to a chunk, then ends it; --clients clients read it to the end at once, direct, \
            through a proxy without faults, and through one with drop_events at rate 0 (the rule consulted on \
            every event). Prints events per second and each as a ratio of direct, measured in the same run. Build \
            with -c release. Exit codes: 0 measured, 64 usage.
            """
    )

    @Option(help: "Events per stream.")
    var events: Int = 200_000

    @Option(name: .customLong("per-write"), help: "Events per chunk (and write) of the server.")
    var perWrite: Int = 64

    @Option(help: "Streams read at once.")
    var clients: Int = 4

    func validate() throws {
        guard self.events > 0, self.perWrite > 0, (1...256).contains(self.clients) else {
            throw ValidationError("--events and --per-write must be positive, --clients 1 to 256")
        }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        let benchmark = EventStreamBenchmark(events: self.events, perWrite: self.perWrite, clients: self.clients)
        let rows = try await benchmark.run { row in
            print("… \(row.path): \(row.events) events in \(row.seconds) s")
        }
        print(EventStreamBenchmark.table(rows))
    }
}
