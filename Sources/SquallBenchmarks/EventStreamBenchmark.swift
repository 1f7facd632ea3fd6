import Foundation
import NIOCore
import SquallFaults
import SquallProxy

/// `squall bench sse`: event-stream throughput direct and through the proxy, which reads every `text/event-stream`
/// answer block by block (each block a unit of its own, re-framed as a chunk) so the event-stream faults can act on
/// whole events. A loopback server writes `events` events of about 100 bytes, `perWrite` to a chunk; `clients`
/// clients read the answer to its end at once; the figure is events delivered per second of wall time, and the
/// proxy's as a ratio of direct measured in the same run.
public struct EventStreamBenchmark: Sendable {
    /// One way of reaching the server.
    public struct Row: Sendable {
        /// `direct`, `proxy`, or `proxy + FAULT`.
        public var path: String
        /// Events delivered to all clients.
        public var events: Int
        /// Bytes the clients read.
        public var bytes: Int
        /// Wall time until the last client read its last byte, in seconds.
        public var seconds: Double

        /// Events per second.
        public var eventsPerSecond: Double { Double(self.events) / self.seconds }
    }

    /// Events per stream.
    public var events: Int
    /// Events per chunk and write of the server.
    public var perWrite: Int
    /// Streams read at once.
    public var clients: Int

    /// Creates the benchmark.
    public init(events: Int = 200_000, perWrite: Int = 64, clients: Int = 4) {
        self.events = events
        self.perWrite = perWrite
        self.clients = clients
    }

    /// Measures direct, through the proxy without a fault, and with a `drop_events` that drops nothing (its rule
    /// consulted on every event); `progress` gets each row.
    public func run(progress: @escaping @Sendable (Row) -> Void) async throws -> [Row] {
        let server = try await LoopbackServer.start(.eventStream(events: self.events, perWrite: self.perWrite))
        do {
            let rows = try await self.measure(through: server, progress: progress)
            await server.stop()
            return rows
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Each path's row, against `server`.
    private func measure(
        through server: LoopbackServer,
        progress: @escaping @Sendable (Row) -> Void
    ) async throws -> [Row] {
        var rows: [Row] = []
        let direct = try await self.measure(path: "direct", port: server.port)
        progress(direct)
        rows.append(direct)
        for (path, faults) in [
            ("proxy", [Fault]()),
            ("proxy + drop_events rate 0", [try Fault(name: "none", type: .dropEvents, attributes: ["rate": 0])]),
        ] {
            let proxy = ProxyServer(
                configuration: ProxyConfiguration(
                    name: "sse",
                    upstream: HostAndPort(host: "127.0.0.1", port: server.port),
                    faults: faults
                )
            )
            try await proxy.start()
            do {
                let row = try await self.measure(path: path, port: proxy.listenAddress!.port!)
                await proxy.stop()
                progress(row)
                rows.append(row)
            } catch {
                await proxy.stop()
                throw error
            }
        }
        return rows
    }

    /// Reads `clients` streams at once from `port`.
    private func measure(path: String, port: Int) async throws -> Row {
        let start = Date()
        let bytes = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<self.clients {
                group.addTask {
                    try await blocking {
                        let socket = try BlockingSocket(port: port)
                        try socket.send("GET /sse HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
                        var total = 0
                        while case .data(let chunk) = socket.read(timeout: 60) { total += chunk.count }
                        return total
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        return Row(
            path: path,
            events: self.events * self.clients,
            bytes: bytes,
            seconds: Date().timeIntervalSince(start)
        )
    }

    /// The rows as a Markdown table, each path's events per second also as a ratio of the first row's.
    public static func table(_ rows: [Row]) -> String {
        var lines = ["| path | events | MB read | seconds | events/s | × direct |", "|---|---:|---:|---:|---:|---:|"]
        let base = rows.first?.eventsPerSecond ?? 1
        for row in rows {
            lines.append(
                "| \(row.path) | \(row.events) | \(format1(Double(row.bytes) / 1e6)) | \(format2(row.seconds)) | "
                    + "\(Int(row.eventsPerSecond.rounded())) | \(format2(row.eventsPerSecond / base)) |"
            )
        }
        return lines.joined(separator: "\n")
    }
}
