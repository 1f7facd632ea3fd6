import ArgumentParser
import Foundation
import SquallBenchmarks

/// `squall bench hostile`: the seeded hostile-input fuzzer — hostile streams through a `squall proxy` child under
/// every fault in turn, checking after each that it lives and still serves.
struct BenchHostileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostile",
        abstract: "Send seeded hostile streams through a squall proxy under every fault in turn; check it survives.",
        discussion: """
            The proxy runs as a child process (squall proxy), the reference server behind it and every client in \
            this one. For each fault (every type, each block_upgrade mode; --faults picks some), --streams hostile \
            streams go through it, --concurrency at a time: random bytes, HTTP-looking garbage, pipelined requests \
            plain and mixed with upgrades, truncated heads, huge headers, bad chunking, conflicting lengths, invalid \
            frames after a real upgrade, slow byte-by-byte writes, each ending in a close, a half-close or a reset. \
            Then the fault is lifted and the proxy must be alive, its control API must answer, a request and a \
            WebSocket upgrade must pass, and its descriptors must come back within 4 of the figure at the start \
            within 10 s. Prints a table (descriptors, how long they took to come back, resident memory). \
            Exit 0 when every phase passed and resident memory grew by at most --rss-growth-limit MB over the \
            run, 1 otherwise; a crash prints a one-line repro.
            """
    )

    @Option(help: "Seed of the generated streams (and of the proxy).")
    var seed: UInt64 = 1

    @Option(help: "Hostile streams per fault.")
    var streams: Int = 1_000

    @Option(help: "Streams sent at once.")
    var concurrency: Int = 40

    @Option(
        help: "Comma-separated phases to run (default: all): none, a fault type, or block_upgrade:MODE and the like."
    )
    var faults: String?

    @Option(
        help:
            "The squall binary to run as the proxy (default: this one), e.g. an older build to find where a crash began."
    )
    var proxyExecutable: String?

    @Option(
        help:
            "Fail when the proxy's resident memory grows by more than this many MB from the end of the first phase to the end of the last (a leak per connection shows as steady growth)."
    )
    var rssGrowthLimit: Double = 64

    func validate() throws {
        guard self.streams > 0, self.concurrency > 0, self.concurrency <= 512 else {
            throw ValidationError("--streams must be positive and --concurrency from 1 to 512")
        }
        if let names = self.selectedNames {
            let known = Set(HostileBenchmark.catalogue.map(\.name))
            let unknown = names.filter { !known.contains($0) }
            guard unknown.isEmpty else {
                throw ValidationError(
                    "unknown phase \(unknown.joined(separator: ", ")); known: "
                        + HostileBenchmark.catalogue.map(\.name).joined(separator: ", ")
                )
            }
        }
    }

    private var selectedNames: [String]? {
        self.faults.map { $0.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) } }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        let phases = self.selectedNames.map { names in HostileBenchmark.catalogue.filter { names.contains($0.name) } }
        let benchmark = HostileBenchmark(
            seed: self.seed,
            streams: self.streams,
            concurrency: self.concurrency,
            phases: phases ?? HostileBenchmark.catalogue
        )
        let results = try await benchmark.run(executable: self.proxyExecutable ?? OwnExecutable.path) { result in
            let back = result.descriptorsBackMilliseconds.map { "back in \($0) ms" } ?? "NOT BACK within 10 s"
            print(
                "… \(result.phase): \(result.passed ? "ok" : "FAILED"), descriptors \(result.descriptorsBefore) → "
                    + "\(result.descriptorsAfterStreams), \(back)"
            )
        }
        print(HostileBenchmark.table(results))
        let crashed = results.filter { !$0.alive }
        let total = results.reduce(0) { $0 + $1.streams }
        let slowest = results.compactMap(\.descriptorsBackMilliseconds).max() ?? 0
        let peak = results.map(\.residentMB).max() ?? 0
        print(
            "hostile: \(total) streams over \(results.count) faults, crashes \(crashed.count), descriptors back within "
                + "\(slowest) ms at worst, peak RSS \(String(format: "%.1f", peak)) MB"
        )
        for phase in crashed {
            print(
                "the proxy died during \(phase.phase); repro: squall bench hostile --seed \(self.seed) "
                    + "--streams \(self.streams) --concurrency \(self.concurrency) --faults \(phase.phase)"
                    + (self.proxyExecutable.map { " --proxy-executable \($0)" } ?? "")
            )
        }
        var failed =
            results.contains(where: { !$0.passed }) || results.count < (phases ?? HostileBenchmark.catalogue).count
        if let first = results.first?.residentMB, let peak = results.map(\.residentMB).max(),
            peak - first > self.rssGrowthLimit
        {
            print(
                "resident memory grew from \(String(format: "%.1f", first)) MB to \(String(format: "%.1f", peak)) MB, "
                    + "more than --rss-growth-limit \(String(format: "%.0f", self.rssGrowthLimit)) MB"
            )
            failed = true
        }
        if failed {
            throw ExitCode(1)
        }
    }
}
