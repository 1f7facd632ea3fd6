import Foundation
import SquallScenarios

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Another TCP proxy run beside Squall's in `squall bench proxy`, so every figure is compared in one run on one
/// machine: haproxy (event-driven, the fast reference), socat (a process forked per connection) or a Toxiproxy
/// server binary.
public struct PeerProxy: Sendable, Hashable {
    /// Which program.
    public enum Kind: String, Sendable, CaseIterable {
        /// HAProxy in TCP mode.
        case haproxy
        /// socat with `fork`.
        case socat
        /// Shopify's `toxiproxy-server`.
        case toxiproxy
    }

    /// Which program.
    public var kind: Kind
    /// Its executable.
    public var executable: String

    /// Creates a peer.
    public init(kind: Kind, executable: String) {
        self.kind = kind
        self.executable = executable
    }

    /// The programs found on `PATH` (the usual names: `haproxy`, `socat`, `toxiproxy-server`).
    public static func onPath() -> [PeerProxy] {
        let names: [Kind: String] = [.haproxy: "haproxy", .socat: "socat", .toxiproxy: "toxiproxy-server"]
        return Kind.allCases.compactMap { kind in
            Self.find(names[kind]!).map { PeerProxy(kind: kind, executable: $0) }
        }
    }

    private static func find(_ name: String) -> String? {
        var directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        directories += ["/usr/sbin", "/sbin"]
        return directories.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    /// A running peer: the ports it forwards from, by upstream port.
    struct Running: Sendable {
        let peer: PeerProxy
        let processes: [ChildProcess]
        /// Listen port for each upstream port.
        let ports: [Int: Int]
        let folder: String

        func stop() async {
            for process in self.processes { await process.stop() }
            try? FileManager.default.removeItem(atPath: self.folder)
        }
    }

    /// Starts the peer forwarding a free loopback port to each of `upstreams`, and waits until every port accepts.
    func start(upstreams: [Int]) async throws -> Running {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("squall-peer-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var ports: [Int: Int] = [:]
        for upstream in upstreams { ports[upstream] = try Self.freePort() }
        var commands: [[String]] = []
        switch self.kind {
        case .haproxy:
            var config = """
                global
                    maxconn 8000
                defaults
                    mode tcp
                    timeout connect 5s
                    timeout client 60s
                    timeout server 60s

                """
            for (index, upstream) in upstreams.enumerated() {
                config += """
                    listen bench\(index)
                        bind 127.0.0.1:\(ports[upstream]!)
                        server upstream 127.0.0.1:\(upstream)

                    """
            }
            let path = folder + "/haproxy.cfg"
            try config.write(toFile: path, atomically: true, encoding: .utf8)
            commands = [[self.executable, "-db", "-f", path]]
        case .socat:
            commands = upstreams.map { upstream in
                [
                    self.executable, "TCP-LISTEN:\(ports[upstream]!),bind=127.0.0.1,reuseaddr,fork,nodelay",
                    "TCP:127.0.0.1:\(upstream),nodelay",
                ]
            }
        case .toxiproxy:
            let proxies = upstreams.enumerated().map { index, upstream in
                "{\"name\":\"bench\(index)\",\"listen\":\"127.0.0.1:\(ports[upstream]!)\",\"upstream\":\"127.0.0.1:\(upstream)\"}"
            }
            let path = folder + "/toxiproxy.json"
            try "[\(proxies.joined(separator: ","))]".write(toFile: path, atomically: true, encoding: .utf8)
            commands = [[self.executable, "-host", "127.0.0.1", "-port", String(try Self.freePort()), "-config", path]]
        }
        var processes: [ChildProcess] = []
        for command in commands {
            processes.append(
                try await ChildProcess.start(
                    arguments: command,
                    environment: [:],
                    part: self.kind.rawValue,
                    grace: .seconds(2)
                )
            )
        }
        let running = Running(peer: self, processes: processes, ports: ports, folder: folder)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        for port in ports.values {
            while (try? BlockingSocket(port: port)) == nil {
                if let ended = processes.first(where: { $0.exited != nil }) {
                    let errors = await ended.output().errors.split(separator: "\n").suffix(3).joined(separator: " ")
                    await running.stop()
                    throw BenchmarkError.peerFailed("\(self.kind.rawValue) ended (\(ended.exited!)): \(errors)")
                }
                guard clock.now < deadline else {
                    await running.stop()
                    throw BenchmarkError.peerFailed(
                        "\(self.kind.rawValue) did not listen on 127.0.0.1:\(port) within 10 s"
                    )
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        return running
    }

    /// A loopback port free now (bound to port 0, then released).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw BlockingSocket.SocketError(call: "bind", code: errno) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
