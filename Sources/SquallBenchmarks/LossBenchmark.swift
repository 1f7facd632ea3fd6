import Foundation
import NIOCore
import SquallFaults
import SquallProxy

/// `squall bench loss`: what `tcp_loss` does to a transfer and to small messages, measured through a real proxy,
/// side by side with what its rule predicts and with the Mathis et al. formula for TCP throughput under random loss
/// (`MSS / RTT × √(3/2) / √p`, 1997). Linux `netem loss` would be the other yardstick; it needs the `sch_netem`
/// kernel module, which the machines this was written on do not load.
public struct LossBenchmark: Sendable {
    /// One loss rate's figures.
    public struct Row: Sendable {
        /// The `tcp_loss` `loss_rate`.
        public var lossRate: Double
        /// Bytes sent in the transfer.
        public var bytes: Int
        /// Seconds the transfer took through the proxy.
        public var seconds: Double
        /// What the rule predicts: a segment lost exactly k times stalls 200 ms × (2^k − 1).
        public var predictedSeconds: Double
        /// Round trips of one-byte messages measured, and how many took 200 ms or more.
        public var messages: Int
        /// Messages that took 200 ms or more (a retransmission).
        public var stalledMessages: Int
        /// The median and slowest message round trip, in ms.
        public var medianMilliseconds: Double
        /// The slowest message round trip, in ms.
        public var maximumMilliseconds: Double

        /// Throughput in KB/s (1 000 bytes).
        public var kilobytesPerSecond: Double { Double(self.bytes) / self.seconds / 1_000 }
    }

    /// The loss rates measured.
    public var lossRates: [Double]
    /// Bytes per transfer.
    public var bytes: Int
    /// One-byte round trips per rate.
    public var messages: Int
    /// The segment size (MSS).
    public static let segmentSize = 1448

    /// Creates the benchmark.
    public init(lossRates: [Double] = [0.001, 0.005, 0.01, 0.02], bytes: Int = 2_000_000, messages: Int = 300) {
        self.lossRates = lossRates
        self.bytes = bytes
        self.messages = messages
    }

    /// The mean stall of one segment under the rule, in seconds: Σₖ pᵏ(1 − p) × 0.2 s × (2ᵏ − 1).
    public static func meanSegmentStall(lossRate p: Double) -> Double {
        (1...40).reduce(0.0) { total, k in total + pow(p, Double(k)) * (1 - p) * 0.2 * (pow(2, Double(k)) - 1) }
    }

    /// The Mathis et al. throughput in KB/s for `rtt` seconds.
    public static func mathisKilobytesPerSecond(lossRate p: Double, rtt: Double) -> Double {
        Double(Self.segmentSize) / rtt * (1.5).squareRoot() / p.squareRoot() / 1_000
    }

    /// Measures every rate; `progress` gets each row.
    public func run(progress: @escaping @Sendable (Row) -> Void) async throws -> [Row] {
        var rows: [Row] = []
        for lossRate in self.lossRates {
            let fault = try Fault(
                name: "tcp",
                type: .tcpLoss,
                direction: .upstream,
                attributes: ["loss_rate": lossRate, "segment_size": Double(Self.segmentSize)]
            )
            let sink = try await LoopbackServer.start(.replyAfterEOF(reply: [1]))
            let echo = try await LoopbackServer.start(.echo)
            let bulk = ProxyServer(
                configuration: ProxyConfiguration(
                    name: "bulk",
                    upstream: HostAndPort(host: "127.0.0.1", port: sink.port),
                    faults: [fault]
                )
            )
            let small = ProxyServer(
                configuration: ProxyConfiguration(
                    name: "small",
                    upstream: HostAndPort(host: "127.0.0.1", port: echo.port),
                    faults: [fault]
                )
            )
            try await bulk.start()
            try await small.start()
            let (bytes, messages) = (self.bytes, self.messages)
            let bulkPort = bulk.listenAddress!.port!
            let smallPort = small.listenAddress!.port!
            let seconds = try await blocking { () -> Double in
                let socket = try BlockingSocket(port: bulkPort)
                let start = Date()
                let piece = [UInt8](repeating: 0x61, count: 65_536)
                var sent = 0
                while sent < bytes {
                    let count = min(piece.count, bytes - sent)
                    try socket.send(Array(piece[0..<count]))
                    sent += count
                }
                socket.shutdownWrite()
                _ = socket.read(exactly: 1, timeout: 600)
                return Date().timeIntervalSince(start)
            }
            let times = try await blocking { () -> [Double] in
                let socket = try BlockingSocket(port: smallPort)
                return try (0..<messages).map { _ in
                    let start = Date()
                    try socket.send([7])
                    _ = socket.read(exactly: 1, timeout: 600)
                    return Date().timeIntervalSince(start) * 1_000
                }
            }
            await bulk.stop()
            await small.stop()
            await sink.stop()
            await echo.stop()
            let segments = (bytes + Self.segmentSize - 1) / Self.segmentSize
            let sorted = times.sorted()
            let row = Row(
                lossRate: lossRate,
                bytes: bytes,
                seconds: seconds,
                predictedSeconds: Double(segments) * Self.meanSegmentStall(lossRate: lossRate),
                messages: messages,
                stalledMessages: times.filter { $0 >= 200 }.count,
                medianMilliseconds: sorted[sorted.count / 2],
                maximumMilliseconds: sorted.last ?? 0
            )
            progress(row)
            rows.append(row)
        }
        return rows
    }

    /// The rows as a Markdown table.
    public static func table(_ rows: [Row]) -> String {
        var lines = [
            "| loss rate | transfer | seconds | predicted s | KB/s | Mathis KB/s at RTT 50 ms | at 200 ms | messages ≥ 200 ms (expected) | median ms | max ms |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in rows {
            let expected = Double(row.messages) * row.lossRate
            lines.append(
                "| \(row.lossRate) | \(row.bytes / 1_000_000) MB | \(format2(row.seconds)) | "
                    + "\(format2(row.predictedSeconds)) | \(format1(row.kilobytesPerSecond)) | "
                    + "\(format1(Self.mathisKilobytesPerSecond(lossRate: row.lossRate, rtt: 0.05))) | "
                    + "\(format1(Self.mathisKilobytesPerSecond(lossRate: row.lossRate, rtt: 0.2))) | "
                    + "\(row.stalledMessages) of \(row.messages) (\(format1(expected))) | "
                    + "\(format2(row.medianMilliseconds)) | \(format1(row.maximumMilliseconds)) |"
            )
        }
        return lines.joined(separator: "\n")
    }
}
