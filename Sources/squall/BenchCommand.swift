import ArgumentParser
import SquallBenchmarks

/// `squall bench`: benchmarks that print figures as ratios to a baseline measured in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (build with -c release).",
        discussion: "Each benchmark's help lists its exit codes; 64 on usage for all.",
        subcommands: [
            BenchProxyCommand.self, BenchCapacityCommand.self, BenchSoakCommand.self, BenchSoakDriverCommand.self,
            BenchHostileCommand.self, BenchLossCommand.self, BenchSSECommand.self, BenchExploreCommand.self,
        ]
    )
}

/// `squall bench proxy`: direct loopback versus through the proxy, and the accuracy of timed faults.
struct BenchProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Measure proxy overhead against direct loopback, and latency/bandwidth fault accuracy.",
        discussion: "Exit codes: 0 measured, 64 usage."
    )

    @Option(help: "Seconds for each throughput phase.")
    var seconds: Double = 3

    @Option(help: "Round trips for the ping-pong phase.")
    var roundTrips: Int = 20_000

    @Option(help: "New connections for the connect phase.")
    var connections: Int = 2_000

    @Flag(
        help:
            "Also measure haproxy, socat and toxiproxy-server (those found on PATH, or given below) side by side with Squall, in interleaved rounds."
    )
    var peers = false

    @Option(help: "The haproxy executable for --peers (default: found on PATH).")
    var haproxy: String?

    @Option(help: "The socat executable for --peers (default: found on PATH).")
    var socat: String?

    @Option(help: "The toxiproxy-server executable for --peers (default: found on PATH).")
    var toxiproxy: String?

    func validate() throws {
        guard self.seconds > 0, self.seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60]") }
        guard self.roundTrips > 0, self.connections > 0 else {
            throw ValidationError("--round-trips and --connections must be positive")
        }
    }

    func run() async throws {
        #if DEBUG
        print("note: this is a debug build; run `swift run -c release squall bench proxy` for real figures")
        #endif
        let benchmark = ProxyBenchmark(
            seconds: self.seconds,
            roundTrips: self.roundTrips,
            connections: self.connections
        )
        let rows = try await benchmark.run { print("… \($0)") }
        print(ProxyBenchmark.table(rows))
        guard self.peers || self.haproxy != nil || self.socat != nil || self.toxiproxy != nil else { return }
        var peers = PeerProxy.onPath().filter { found in
            switch found.kind {
            case .haproxy: self.haproxy == nil
            case .socat: self.socat == nil
            case .toxiproxy: self.toxiproxy == nil
            }
        }
        if let path = self.haproxy { peers.append(PeerProxy(kind: .haproxy, executable: path)) }
        if let path = self.socat { peers.append(PeerProxy(kind: .socat, executable: path)) }
        if let path = self.toxiproxy { peers.append(PeerProxy(kind: .toxiproxy, executable: path)) }
        peers.sort { $0.kind.rawValue < $1.kind.rawValue }
        if peers.isEmpty {
            print("no peer proxy found on PATH (haproxy, socat, toxiproxy-server); comparing with direct loopback only")
        }
        let sideBySide = SideBySideBenchmark(
            seconds: self.seconds,
            roundTrips: self.roundTrips,
            connections: self.connections,
            peers: peers
        )
        let figures = try await sideBySide.run { print("… \($0)") }
        print(SideBySideBenchmark.table(figures))
    }
}
