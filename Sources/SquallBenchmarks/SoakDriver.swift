import Foundation
import NIOCore
import SquallReferenceProtocol
import SquallReferenceServer

/// The client side of `squall bench soak`, run in a process of its own so the proxy's process holds only the
/// proxy's sockets: it runs the upstream servers (an echo server and the reference server, on ports the parent
/// chose) and drives every phase's connections at the proxies, printing one line as each phase ends and then
/// pausing so the parent can measure.
public struct SoakDriver: Sendable {
    /// A `block_upgrade` mode and the port of the proxy that has it.
    public struct HostileTarget: Sendable {
        /// The mode's name.
        public var mode: String
        /// The proxy's port.
        public var port: Int

        /// Creates a target.
        public init(mode: String, port: Int) {
            self.mode = mode
            self.port = port
        }
    }

    /// Where to run the echo server.
    public var echoPort: Int
    /// Where to run the reference server (answers WebSocket upgrades for the hostile phase).
    public var referencePort: Int
    /// The proxy in front of the echo server.
    public var proxyPort: Int
    /// The proxies in front of the reference server, one per `block_upgrade` mode.
    public var hostile: [HostileTarget]
    /// Connections of the churn phase.
    public var churn: Int
    /// Connections held open in the idle phase.
    public var idle: Int
    /// Hostile streams per mode.
    public var hostileStreams: Int
    /// How long to pause after each phase line for the parent to measure.
    public var pause: Duration

    /// Creates a driver.
    public init(
        echoPort: Int,
        referencePort: Int,
        proxyPort: Int,
        hostile: [HostileTarget],
        churn: Int,
        idle: Int,
        hostileStreams: Int,
        pause: Duration = .seconds(3)
    ) {
        self.echoPort = echoPort
        self.referencePort = referencePort
        self.proxyPort = proxyPort
        self.hostile = hostile
        self.churn = churn
        self.idle = idle
        self.hostileStreams = hostileStreams
        self.pause = pause
    }

    /// The lines the driver prints, which the parent waits for.
    public enum Phase: String, Sendable, CaseIterable {
        /// The servers are up.
        case ready
        /// 2 000 mixed connections are done.
        case warmedUp = "warmed-up"
        /// The churn is done.
        case churned
        /// The idle connections are open.
        case idleOpen = "idle-open"
        /// The idle connections are closed.
        case idleClosed = "idle-closed"
        /// One mode's hostile streams are done (the line carries the mode).
        case hostileDone = "hostile-done"
        /// Everything is done.
        case finished
    }

    /// Runs every phase; `say` prints a line.
    public func run(say: @escaping @Sendable (String) -> Void) async throws {
        let echo = try await LoopbackServer.start(.echo, port: self.echoPort)
        var configuration = ReferenceServerConfiguration()
        configuration.port = self.referencePort
        let reference = try await ReferenceServer.bind(configuration: configuration)
        let serving = Task { await reference.run() }
        let job = reference.createJob(JobCreation(totalItems: 100_000, itemInterval: .seconds(1)))
        let upgrade = Array(
            ("GET /ws/progress?jobId=\(job.jobId)&token=\(job.token) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n").utf8
        )
        say(Phase.ready.rawValue)
        let (proxyPort, churn, idle, streams) = (self.proxyPort, self.churn, self.idle, self.hostileStreams)
        try await blocking { try Self.mixed(port: proxyPort, count: 2_000) }
        say(Phase.warmedUp.rawValue)
        try await Task.sleep(for: self.pause)
        try await blocking { try Self.mixed(port: proxyPort, count: churn) }
        say(Phase.churned.rawValue)
        try await Task.sleep(for: self.pause)
        var open = try await blocking { try Self.openIdle(port: proxyPort, count: idle) }
        say(Phase.idleOpen.rawValue + " \(open.count)")
        try await Task.sleep(for: self.pause)
        open = []
        say(Phase.idleClosed.rawValue)
        try await Task.sleep(for: self.pause)
        for target in self.hostile {
            try await blocking { try Self.hostile(port: target.port, count: streams, upgrade: upgrade) }
            say(Phase.hostileDone.rawValue + " " + target.mode)
            try await Task.sleep(for: self.pause * 2)
        }
        say(Phase.finished.rawValue)
        serving.cancel()
        await serving.value
        await echo.stop()
    }

    /// Connections of three kinds in turn: an echoed byte then a close, a close at once, a reset at once.
    static func mixed(port: Int, count: Int) throws {
        for index in 0..<count {
            let socket = try Self.connect(port: port)
            switch index % 3 {
            case 0:
                try socket.send([7])
                _ = socket.read(exactly: 1, timeout: 5)
            case 1:
                break
            default:
                socket.resetOnClose()
            }
        }
    }

    /// Opens `count` connections that each echoed a byte, and keeps them.
    static func openIdle(port: Int, count: Int) throws -> [BlockingSocket] {
        var sockets: [BlockingSocket] = []
        sockets.reserveCapacity(count)
        for _ in 0..<count {
            let socket = try Self.connect(port: port)
            try socket.send([7])
            _ = socket.read(exactly: 1, timeout: 5)
            sockets.append(socket)
        }
        return sockets
    }

    /// Hostile streams in turn: garbage, an upgrade then a close, an upgrade then a reset after the answer, half an
    /// upgrade, an upgrade then a FIN.
    static func hostile(port: Int, count: Int, upgrade: [UInt8]) throws {
        var random = SystemRandomNumberGenerator()
        for index in 0..<count {
            let socket = try Self.connect(port: port)
            switch index % 5 {
            case 0:
                try? socket.send((0..<64).map { _ in UInt8.random(in: 0...255, using: &random) })
            case 1:
                try? socket.send(upgrade)
            case 2:
                try? socket.send(upgrade)
                _ = socket.read(timeout: 0.05)
                socket.resetOnClose()
            case 3:
                try? socket.send(Array(upgrade.prefix(upgrade.count / 2)))
            default:
                try? socket.send(upgrade)
                socket.shutdownWrite()
                _ = socket.read(timeout: 0.05)
            }
        }
    }

    /// Connects, retrying briefly when the kernel has no port free at that instant.
    private static func connect(port: Int) throws -> BlockingSocket {
        var attempt = 0
        while true {
            do {
                return try BlockingSocket(port: port)
            } catch let error as BlockingSocket.SocketError where error.code == EADDRNOTAVAIL && attempt < 50 {
                attempt += 1
                usleep(20_000)
            }
        }
    }
}
