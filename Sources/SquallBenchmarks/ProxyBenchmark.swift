import NIOCore
import NIOPosix
import SquallFaults
import SquallProxy

/// Measures the proxy against direct loopback in one run, so every figure is a ratio to a baseline taken on the
/// same machine at the same time (`squall bench proxy`).
public struct ProxyBenchmark: Sendable {
    /// One printed figure.
    public struct Row: Sendable {
        /// What was measured.
        public var name: String
        /// The unit of `direct` and `proxied`.
        public var unit: String
        /// The direct-loopback baseline, when there is one.
        public var direct: Double?
        /// Through the proxy.
        public var proxied: Double
        /// The comparison the target is about, e.g. `0.52 × direct` or `+18 µs`.
        public var comparison: String
        /// The target from the issue.
        public var target: String
        /// Whether the target is met.
        public var met: Bool
    }

    /// How long the throughput and bandwidth phases run, in seconds.
    public var seconds: Double
    /// Round trips for the ping-pong figure.
    public var roundTrips: Int
    /// New connections for the connect figure.
    public var connections: Int

    /// Creates a benchmark with the given sizes.
    public init(seconds: Double = 3, roundTrips: Int = 20_000, connections: Int = 2_000) {
        self.seconds = seconds
        self.roundTrips = roundTrips
        self.connections = connections
    }

    /// Runs every phase and returns the rows in print order.
    public func run(progress: @Sendable (String) -> Void) async throws -> [Row] {
        let sink = try await LoopbackServer.start(.discard)
        let echo = try await LoopbackServer.start(.echo)
        let sinkProxy = try await Self.startProxy(upstream: sink.port)
        let echoProxy = try await Self.startProxy(upstream: echo.port)
        let result: Result<[Row], any Error>
        do {
            result = .success(
                try await self.measure(
                    sink: sink,
                    echo: echo,
                    sinkProxy: sinkProxy,
                    echoProxy: echoProxy,
                    progress: progress
                )
            )
        } catch {
            result = .failure(error)
        }
        await sinkProxy.stop()
        await echoProxy.stop()
        await sink.stop()
        await echo.stop()
        return try result.get()
    }

    private func measure(
        sink: LoopbackServer,
        echo: LoopbackServer,
        sinkProxy: ProxyServer,
        echoProxy: ProxyServer,
        progress: @Sendable (String) -> Void
    ) async throws -> [Row] {
        var rows: [Row] = []

        progress("bulk throughput, \(self.seconds) s each")
        let seconds = self.seconds
        let directRate = try await blocking { try Self.throughput(port: sink.port, seconds: seconds) }
        let proxiedRate = try await blocking {
            try Self.throughput(port: sinkProxy.listenAddress!.port!, seconds: seconds)
        }
        let ratio = proxiedRate / directRate
        rows.append(
            Row(
                name: "bulk throughput, one stream",
                unit: "MB/s",
                direct: directRate / 1e6,
                proxied: proxiedRate / 1e6,
                comparison: String(format2(ratio)) + " × direct",
                target: "≥ 0.38 × direct",
                met: ratio >= 0.38
            )
        )

        progress("64-byte ping-pong, \(self.roundTrips) round trips each")
        let trips = self.roundTrips
        let direct = try await blocking { try Self.pingPong(port: echo.port, count: trips) }
        let proxied = try await blocking { try Self.pingPong(port: echoProxy.listenAddress!.port!, count: trips) }
        let addedP50 = (Self.percentile(proxied, 0.5) - Self.percentile(direct, 0.5)) * 1e6
        let addedP99 = (Self.percentile(proxied, 0.99) - Self.percentile(direct, 0.99)) * 1e6
        rows.append(
            Row(
                name: "round trip p50",
                unit: "µs",
                direct: Self.percentile(direct, 0.5) * 1e6,
                proxied: Self.percentile(proxied, 0.5) * 1e6,
                comparison: "+\(format1(addedP50)) µs",
                target: "≤ +25 µs",
                met: addedP50 <= 25
            )
        )
        rows.append(
            Row(
                name: "round trip p99",
                unit: "µs",
                direct: Self.percentile(direct, 0.99) * 1e6,
                proxied: Self.percentile(proxied, 0.99) * 1e6,
                comparison: "+\(format1(addedP99)) µs",
                target: "(reported)",
                met: true
            )
        )

        progress("new connection + first byte, \(self.connections) each")
        let count = self.connections
        let directConnect = try await blocking { try Self.connectFirstByte(port: echo.port, count: count) }
        let proxiedConnect = try await blocking {
            try Self.connectFirstByte(port: echoProxy.listenAddress!.port!, count: count)
        }
        let addedConnect = (Self.percentile(proxiedConnect, 0.5) - Self.percentile(directConnect, 0.5)) * 1e6
        rows.append(
            Row(
                name: "connect + first byte p50",
                unit: "µs",
                direct: Self.percentile(directConnect, 0.5) * 1e6,
                proxied: Self.percentile(proxiedConnect, 0.5) * 1e6,
                comparison: "+\(format1(addedConnect)) µs",
                target: "≤ +100 µs",
                met: addedConnect <= 100
            )
        )

        progress("latency fault accuracy, 50 ms × 100")
        let latencyProxy = try await Self.startProxy(
            upstream: echo.port,
            faults: [try Fault(type: .latency, attributes: ["latency": 50])]
        )
        let baseline = Self.percentile(proxied, 0.5)
        let delayed = try await blocking { try Self.pingPong(port: latencyProxy.listenAddress!.port!, count: 100) }
        await latencyProxy.stop()
        let timerLateness = try await Self.timerLateness(count: 100)
        let errors = delayed.map { abs($0 - 0.050 - baseline) * 1e3 }
        let errorP50 = Self.percentile(errors, 0.5)
        let errorP99 = Self.percentile(errors, 0.99)
        rows.append(
            Row(
                name: "50 ms latency error p50",
                unit: "ms",
                direct: nil,
                proxied: errorP50,
                comparison: "\(format3(errorP50)) ms",
                target: "≤ 0.3 ms",
                met: errorP50 <= 0.3
            )
        )
        rows.append(
            Row(
                name: "50 ms latency error p99",
                unit: "ms",
                direct: nil,
                proxied: errorP99,
                comparison: "\(format3(errorP99)) ms",
                target: "≤ 1 ms",
                met: errorP99 <= 1
            )
        )
        let latenessP50 = Self.percentile(timerLateness, 0.5) * 1e3
        rows.append(
            Row(
                name: "event-loop 50 ms timer lateness p50 (baseline)",
                unit: "ms",
                direct: nil,
                proxied: latenessP50,
                comparison: "\(format3(latenessP50)) ms",
                target: "(reported: the floor under the latency error)",
                met: true
            )
        )

        progress("bandwidth fault accuracy, 1 MB/s for 5 s")
        let source = try await LoopbackServer.start(.send(count: 20_000_000))
        let limited = try await Self.startProxy(
            upstream: source.port,
            faults: [try Fault(type: .bandwidth, attributes: ["rate": 1000])]
        )
        let samples = try await blocking { try Self.receiveTimeline(port: limited.listenAddress!.port!, seconds: 5) }
        await limited.stop()
        await source.stop()
        let total = Double(samples.last?.bytes ?? 0)
        let overallError = abs(total - 5_000_000) / 5_000_000 * 100
        let worstWindow = Self.worstWindowError(samples, rate: 1_000_000, seconds: 5)
        rows.append(
            Row(
                name: "1 MB/s bandwidth error, 5 s",
                unit: "%",
                direct: nil,
                proxied: overallError,
                comparison: "\(format3(overallError)) %",
                target: "≤ 0.5 %",
                met: overallError <= 0.5
            )
        )
        rows.append(
            Row(
                name: "1 MB/s bandwidth error, worst 1 s",
                unit: "%",
                direct: nil,
                proxied: worstWindow,
                comparison: "\(format3(worstWindow)) %",
                target: "≤ 2 %",
                met: worstWindow <= 2
            )
        )
        return rows
    }

    /// Renders rows as a Markdown table.
    public static func table(_ rows: [Row]) -> String {
        var lines = [
            "| measure | direct | through proxy | comparison | target | met |",
            "|---|---:|---:|---:|---|---|",
        ]
        for row in rows {
            let direct = row.direct.map { "\(format1($0)) \(row.unit)" } ?? "—"
            lines.append(
                "| \(row.name) | \(direct) | \(format1(row.proxied)) \(row.unit) | \(row.comparison) | \(row.target) | \(row.met ? "yes" : "no") |"
            )
        }
        return lines.joined(separator: "\n")
    }

    static func startProxy(upstream: Int, faults: [Fault] = []) async throws -> ProxyServer {
        let proxy = ProxyServer(
            configuration: ProxyConfiguration(
                name: "bench",
                upstream: HostAndPort(host: "127.0.0.1", port: upstream),
                faults: faults
            )
        )
        try await proxy.start()
        return proxy
    }

    /// How late a bare 50 ms timer on the event loop fires: the machine's own floor under any timed fault.
    private static func timerLateness(count: Int) async throws -> [Double] {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        var samples: [Double] = []
        for _ in 0..<count {
            let start = monotonicSeconds()
            let fired = try await loop.scheduleTask(in: .milliseconds(50)) { monotonicSeconds() }.futureResult.get()
            samples.append(fired - start - 0.050)
        }
        return samples
    }

    static func throughput(port: Int, seconds: Double) throws -> Double {
        let socket = try BlockingSocket(port: port)
        let chunk = [UInt8](repeating: 0x5A, count: 256 * 1024)
        let start = monotonicSeconds()
        var sent = 0
        while monotonicSeconds() - start < seconds {
            try socket.send(chunk)
            sent += chunk.count
        }
        return Double(sent) / (monotonicSeconds() - start)
    }

    static func pingPong(port: Int, count: Int) throws -> [Double] {
        let socket = try BlockingSocket(port: port)
        let message = [UInt8](repeating: 0x42, count: 64)
        var samples: [Double] = []
        samples.reserveCapacity(count)
        for index in 0..<(count + 100) {
            let start = monotonicSeconds()
            try socket.send(message)
            let (bytes, _) = socket.read(exactly: 64, timeout: 5)
            guard bytes.count == 64 else { throw BenchmarkError.stalled("ping-pong") }
            if index >= 100 { samples.append(monotonicSeconds() - start) }
        }
        return samples
    }

    static func connectFirstByte(port: Int, count: Int) throws -> [Double] {
        var samples: [Double] = []
        for index in 0..<(count + 50) {
            let start = monotonicSeconds()
            let socket = try BlockingSocket(port: port)
            try socket.send([1])
            guard case .data = socket.read(timeout: 5) else { throw BenchmarkError.stalled("connect") }
            if index >= 50 { samples.append(monotonicSeconds() - start) }
            _ = socket
        }
        return samples
    }

    private static func receiveTimeline(port: Int, seconds: Double) throws -> [(time: Double, bytes: Int)] {
        let socket = try BlockingSocket(port: port)
        var samples: [(time: Double, bytes: Int)] = []
        var total = 0
        let start = monotonicSeconds()
        while true {
            let elapsed = monotonicSeconds() - start
            if elapsed >= seconds { break }
            if case .data(let bytes) = socket.read(timeout: min(0.05, seconds - elapsed)) {
                let time = monotonicSeconds() - start
                if time > seconds { break }
                total += bytes.count
                samples.append((time, total))
            }
        }
        return samples
    }

    private static func worstWindowError(
        _ samples: [(time: Double, bytes: Int)],
        rate: Double,
        seconds: Double
    ) -> Double {
        func bytes(at time: Double) -> Double {
            Double(samples.last { $0.time <= time }?.bytes ?? 0)
        }
        var worst = 0.0
        var start = 0.0
        while start + 1 <= seconds + 1e-9 {
            let received = bytes(at: start + 1) - bytes(at: start)
            worst = max(worst, abs(received - rate) / rate * 100)
            start += 0.1
        }
        return worst
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))]
    }
}

/// Why a benchmark phase could not finish.
public enum BenchmarkError: Error, CustomStringConvertible {
    /// A phase got no answer within its timeout.
    case stalled(String)
    /// A peer proxy (haproxy, socat, Toxiproxy) could not be started.
    case peerFailed(String)

    /// What went wrong.
    public var description: String {
        switch self {
        case .stalled(let phase): return "the \(phase) phase got no answer within 5 s"
        case .peerFailed(let reason): return "a peer proxy failed: \(reason)"
        }
    }
}

private func monotonicSeconds() -> Double {
    Double(NIODeadline.now().uptimeNanoseconds) / 1e9
}

func format1(_ value: Double) -> String { formatted(value, digits: 1) }
func format2(_ value: Double) -> String { formatted(value, digits: 2) }
func format3(_ value: Double) -> String { formatted(value, digits: 3) }

private func formatted(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (abs(value) * scale).rounded() / scale
    let whole = Int(rounded)
    var fraction = String(Int(((rounded - Double(whole)) * scale).rounded()))
    while fraction.count < digits { fraction = "0" + fraction }
    return (value < 0 ? "-" : "") + "\(whole).\(fraction)"
}
