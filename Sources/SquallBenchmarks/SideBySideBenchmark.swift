import NIOCore
import SquallProxy

/// Squall's proxy beside other TCP proxies on the same machine in the same run (`squall bench proxy --peers`):
/// bulk throughput, added round trip and added connect + first byte, each against direct loopback, measured in
/// interleaved rounds so a noisy moment hurts every contender alike.
public struct SideBySideBenchmark: Sendable {
    /// One contender's figures.
    public struct Row: Sendable {
        /// `direct`, `squall` or the peer's name.
        public var name: String
        /// Bulk throughput of one stream, as a fraction of direct loopback's.
        public var throughputRatio: Double
        /// Added round-trip p50 of a 64-byte ping-pong, in microseconds.
        public var addedRoundTrip: Double
        /// Added p50 of a new connection plus its first echoed byte, in microseconds.
        public var addedConnect: Double
    }

    /// Seconds of bulk transfer per contender, split over the rounds.
    public var seconds: Double
    /// Round trips per contender, split over the rounds.
    public var roundTrips: Int
    /// New connections per contender, split over the rounds.
    public var connections: Int
    /// How many interleaved rounds.
    public var rounds: Int
    /// The other proxies.
    public var peers: [PeerProxy]

    /// Creates the benchmark.
    public init(seconds: Double, roundTrips: Int, connections: Int, rounds: Int = 3, peers: [PeerProxy]) {
        self.seconds = seconds
        self.roundTrips = roundTrips
        self.connections = connections
        self.rounds = rounds
        self.peers = peers
    }

    private struct Samples {
        var bytesPerSecond: [Double] = []
        var roundTrips: [Double] = []
        var connects: [Double] = []
    }

    /// Runs the rounds; returns one row per contender, direct loopback first.
    public func run(progress: @Sendable (String) -> Void) async throws -> [Row] {
        let sink = try await LoopbackServer.start(.discard)
        let echo = try await LoopbackServer.start(.echo)
        let squallSink = try await ProxyBenchmark.startProxy(upstream: sink.port)
        let squallEcho = try await ProxyBenchmark.startProxy(upstream: echo.port)
        var running: [PeerProxy.Running] = []
        do {
            for peer in self.peers {
                progress("starting \(peer.kind.rawValue) (\(peer.executable))")
                running.append(try await peer.start(upstreams: [sink.port, echo.port]))
            }
            var contenders: [(name: String, sink: Int, echo: Int)] = [
                ("direct", sink.port, echo.port),
                ("squall", squallSink.listenAddress!.port!, squallEcho.listenAddress!.port!),
            ]
            for peer in running {
                contenders.append((peer.peer.kind.rawValue, peer.ports[sink.port]!, peer.ports[echo.port]!))
            }
            var samples = [String: Samples]()
            let (seconds, trips, connections) = (
                self.seconds / Double(self.rounds), self.roundTrips / self.rounds, self.connections / self.rounds
            )
            for round in 1...self.rounds {
                progress("round \(round) of \(self.rounds): \(contenders.map(\.name).joined(separator: ", "))")
                for contender in contenders {
                    let rate = try await blocking {
                        try ProxyBenchmark.throughput(port: contender.sink, seconds: seconds)
                    }
                    let trip = try await blocking { try ProxyBenchmark.pingPong(port: contender.echo, count: trips) }
                    let connect = try await blocking {
                        try ProxyBenchmark.connectFirstByte(port: contender.echo, count: connections)
                    }
                    samples[contender.name, default: Samples()].bytesPerSecond.append(rate)
                    samples[contender.name, default: Samples()].roundTrips += trip
                    samples[contender.name, default: Samples()].connects += connect
                }
            }
            for peer in running { await peer.stop() }
            running = []
            await squallSink.stop()
            await squallEcho.stop()
            await sink.stop()
            await echo.stop()
            let direct = samples["direct"]!
            let directRate = direct.bytesPerSecond.reduce(0, +) / Double(direct.bytesPerSecond.count)
            let directTrip = ProxyBenchmark.percentile(direct.roundTrips, 0.5)
            let directConnect = ProxyBenchmark.percentile(direct.connects, 0.5)
            return contenders.map { contender in
                let figures = samples[contender.name]!
                return Row(
                    name: contender.name,
                    throughputRatio: figures.bytesPerSecond.reduce(0, +) / Double(figures.bytesPerSecond.count)
                        / directRate,
                    addedRoundTrip: (ProxyBenchmark.percentile(figures.roundTrips, 0.5) - directTrip) * 1e6,
                    addedConnect: (ProxyBenchmark.percentile(figures.connects, 0.5) - directConnect) * 1e6
                )
            }
        } catch {
            for peer in running { await peer.stop() }
            await squallSink.stop()
            await squallEcho.stop()
            await sink.stop()
            await echo.stop()
            throw error
        }
    }

    /// The rows as a Markdown table, then the goals checked against the peers that ran.
    public static func table(_ rows: [Row]) -> String {
        var lines = [
            "| proxy | throughput × direct | added round trip p50 | added connect + first byte p50 |",
            "|---|---:|---:|---:|",
        ]
        for row in rows {
            lines.append(
                "| \(row.name) | \(format2(row.throughputRatio)) | +\(format1(row.addedRoundTrip)) µs | +\(format1(row.addedConnect)) µs |"
            )
        }
        guard let squall = rows.first(where: { $0.name == "squall" }) else { return lines.joined(separator: "\n") }
        lines.append("")
        lines.append(
            "- throughput ≥ 0.5 × direct: \(squall.throughputRatio >= 0.5 ? "met" : "not met") (\(format2(squall.throughputRatio)))"
        )
        if let haproxy = rows.first(where: { $0.name == PeerProxy.Kind.haproxy.rawValue }) {
            lines.append(
                "- added connect + first byte ≤ haproxy's: \(squall.addedConnect <= haproxy.addedConnect ? "met" : "not met") (+\(format1(squall.addedConnect)) vs +\(format1(haproxy.addedConnect)) µs)"
            )
        }
        if let socat = rows.first(where: { $0.name == PeerProxy.Kind.socat.rawValue }) {
            lines.append(
                "- added round trip ≤ socat's: \(squall.addedRoundTrip <= socat.addedRoundTrip ? "met" : "not met") (+\(format1(squall.addedRoundTrip)) vs +\(format1(socat.addedRoundTrip)) µs)"
            )
        }
        return lines.joined(separator: "\n")
    }
}
