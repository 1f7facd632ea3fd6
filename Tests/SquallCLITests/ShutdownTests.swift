import Foundation
import SquallBenchmarks
import SquallTestSupport
import Testing

/// SIGTERM ends every long-running command within seconds, whatever its peers do: here a peer is connected to every
/// listening socket of the process and never sends a byte.
@Suite(.serialized) struct ShutdownTests {
    /// Connects a silent peer to every port `process` listens on; returns them (kept open) and the ports.
    private func silentPeers(on process: SquallProcess, atLeast count: Int) async throws -> ([BlockingSocket], [Int]) {
        var ports: [Int] = []
        _ = await Eventually.wait(timeout: 20) {
            ports = ListeningPorts.of(pid: process.processIdentifier)
            return ports.count >= count
        }
        try #require(ports.count >= count, "listening on \(ports)")
        let peers = try ports.map { try BlockingSocket(port: $0) }
        try await Task.sleep(for: .milliseconds(300))
        return (peers, ports)
    }

    private func terminate(_ process: SquallProcess) async -> (status: Int32, seconds: Double) {
        let started = ContinuousClock.now
        process.signal(SIGTERM)
        let (status, _) = await process.waitForExit(timeout: 30)
        let elapsed = ContinuousClock.now - started
        return (status, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    @Test func serveExitsOnSigtermWithASilentPeerConnected() async throws {
        let process = try SquallProcess(["serve", "--port", "0"])
        let (peers, ports) = try await self.silentPeers(on: process, atLeast: 1)
        let (status, seconds) = await self.terminate(process)
        #expect(status == 0, "\(process.standardOutput)")
        #expect(seconds < 3, "\(seconds) s with silent peers on \(ports)")
        _ = peers
    }

    @Test func proxyExitsOnSigtermWithASilentPeerOnEveryListener() async throws {
        let process = try SquallProcess(["proxy", "--port", "0"])
        // The control API, the echo proxy and the built-in echo server behind it.
        let (peers, ports) = try await self.silentPeers(on: process, atLeast: 3)
        let (status, seconds) = await self.terminate(process)
        #expect(status == 0, "\(process.standardOutput)")
        #expect(seconds < 3, "\(seconds) s with silent peers on \(ports)")
        _ = peers
    }

    @Test func runExitsOnSigtermWithASilentPeerOnEveryListener() async throws {
        let folder = NSTemporaryDirectory() + "squall-shutdown-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let file = folder + "/s.json"
        try
            #"{"name": "long", "duration": "300s", "server": {"job": {"totalItems": 300, "itemInterval": "1s"}}, "clients": [{"count": 2}]}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let process = try SquallProcess(["run", file, "--output", folder + "/reports"])
        // The reference server and the group's proxy.
        let (peers, ports) = try await self.silentPeers(on: process, atLeast: 2)
        let (status, seconds) = await self.terminate(process)
        #expect(status == 130, "\(process.standardOutput)")
        #expect(seconds < 3, "\(seconds) s with silent peers on \(ports)")
        _ = peers
    }
}
