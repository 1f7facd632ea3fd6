import Dispatch
import Foundation
import NIOCore
import SquallFaults
import SquallReferenceProtocol
import SquallReferenceServer
import SquallScenarios

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `squall bench hostile`: a seeded hostile-input fuzzer for the proxy, kept with the project.
///
/// The proxy runs as a child process (`squall proxy`), so a crash is seen rather than suffered; the reference server
/// behind it and every client run here. For each fault in ``catalogue`` in turn: the fault is set through the
/// control API, `streams` generated ``HostileStream``s are sent through the proxy (`concurrency` at a time), the
/// fault is lifted, and the proxy is checked: its process is alive, the control API answers, a well-formed request
/// and a WebSocket upgrade (with a frame after it) pass. Its open descriptors are counted while they come back to
/// the figure at the start, and its resident memory is read. A crash stops the run with a one-line repro.
public struct HostileBenchmark: Sendable {
    /// One fault phase: what the control API is sent.
    public struct Phase: Sendable {
        /// A name for the table and `--faults` (`none`, a fault type, or `block_upgrade:reject` and the like).
        public var name: String
        /// The fault as the control API takes it; nil for the phase with no fault.
        public var fault: String?
    }

    /// What one phase found.
    public struct Result: Sendable {
        /// The phase.
        public var phase: String
        /// Streams sent.
        public var streams: Int
        /// Whether the proxy's process was still running after them.
        public var alive: Bool
        /// Whether the control API answered `GET /version` with 200.
        public var apiAnswered: Bool
        /// Whether a well-formed request through the proxy was answered 200.
        public var requestPassed: Bool
        /// Whether a WebSocket upgrade through the proxy was answered 101 and a frame followed.
        public var webSocketPassed: Bool
        /// The proxy's open descriptors before the phase.
        public var descriptorsBefore: Int
        /// Its open descriptors right after the streams, with the fault in force.
        public var descriptorsAfterStreams: Int
        /// How long after the fault was lifted its descriptors were back within 4 of the figure at the start of
        /// the run; nil when they were not within 10 s.
        public var descriptorsBackMilliseconds: Int?
        /// Its resident memory at the end of the phase, in MB.
        public var residentMB: Double

        /// Whether every check passed.
        public var passed: Bool {
            self.alive && self.apiAnswered && self.requestPassed && self.webSocketPassed
                && self.descriptorsBackMilliseconds != nil
        }
    }

    /// Every fault type, and each mode of `block_upgrade`, with attributes that make it act on short streams.
    public static let catalogue: [Phase] = {
        var phases = [Phase(name: "none", fault: nil)]
        func add(_ name: String, _ type: String, stream: String = "downstream", _ attributes: String = "{}") {
            phases.append(
                Phase(
                    name: name,
                    fault: #"{"type":"\#(type)","stream":"\#(stream)","attributes":\#(attributes)}"#
                )
            )
        }
        add("latency", "latency", #"{"latency":20,"jitter":10}"#)
        add("bandwidth", "bandwidth", #"{"rate":20}"#)
        add("slicer", "slicer", stream: "upstream", #"{"average_size":3,"size_variation":2,"delay":200}"#)
        add("slow_close", "slow_close", #"{"delay":100}"#)
        add("limit_data", "limit_data", stream: "upstream", #"{"bytes":100}"#)
        add("timeout", "timeout", #"{"timeout":100}"#)
        add("limit_time", "limit_time", #"{"lifetime":150}"#)
        add("idle_timeout", "idle_timeout", #"{"timeout":60}"#)
        add("reset_peer", "reset_peer", stream: "upstream", #"{"timeout":5}"#)
        add("blackhole", "blackhole", stream: "upstream")
        add("packet_loss", "packet_loss", stream: "upstream", #"{"loss_rate":0.3,"correlation":0.3}"#)
        add("tcp_loss", "tcp_loss", #"{"loss_rate":0.2,"correlation":0.2,"segment_size":100}"#)
        add("down", "down")
        add("refuse", "refuse")
        add("slow_open", "slow_open", #"{"delay":30}"#)
        add("connect_blackhole", "connect_blackhole")
        for mode in ["reject", "strip", "reset", "hang", "blackhole_after_101", "buffer_after_101"] {
            add("block_upgrade:\(mode)", "block_upgrade", stream: "upstream", #"{"mode":"\#(mode)","interval":50}"#)
        }
        add("drop_pings", "drop_pings")
        add("close_after_frames", "close_after_frames", #"{"frames":1}"#)
        add("delay_frames", "delay_frames", #"{"delay":20}"#)
        add("fail_requests:every", "fail_requests", stream: "upstream", #"{"status":503,"every":2}"#)
        add("fail_requests:rate", "fail_requests", stream: "upstream", #"{"status":500,"rate":0.5}"#)
        add("delay_requests", "delay_requests", stream: "upstream", #"{"delay":20}"#)
        return phases
    }()

    /// The seed of the generated streams and of the proxy.
    public var seed: UInt64
    /// Streams per phase.
    public var streams: Int
    /// Streams sent at once.
    public var concurrency: Int
    /// The phases to run, in order.
    public var phases: [Phase]

    /// Creates the benchmark.
    public init(seed: UInt64, streams: Int, concurrency: Int, phases: [Phase] = Self.catalogue) {
        self.seed = seed
        self.streams = streams
        self.concurrency = concurrency
        self.phases = phases
    }

    /// Runs every phase, stopping at the first whose proxy died; `progress` gets each result as it comes.
    ///
    /// - Parameter executable: this program, started again as `squall proxy`.
    public func run(
        executable: String,
        progress: @escaping @Sendable (Result) -> Void
    ) async throws -> [Result] {
        var configuration = ReferenceServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        let reference = try await ReferenceServer.bind(configuration: configuration)
        let serving = Task { await reference.run() }
        defer { serving.cancel() }
        let job = reference.createJob(JobCreation(totalItems: 100_000, itemInterval: .milliseconds(20)))
        let upgrade = Array(
            ("GET /ws/progress?jobId=\(job.jobId)&token=\(job.token) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n").utf8
        )
        let proxyPort = try PeerProxy.freePort()
        let apiPort = try PeerProxy.freePort()
        let configFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("squall-hostile-\(getpid()).json").path
        let proxies =
            #"[{"name":"hostile","listen":"127.0.0.1:\#(proxyPort)","upstream":"127.0.0.1:\#(reference.localAddress.port ?? 0)","enabled":true}]"#
        try Data(proxies.utf8).write(to: URL(fileURLWithPath: configFile))
        defer { try? FileManager.default.removeItem(atPath: configFile) }
        let child = try await ChildProcess.start(
            arguments: [
                executable, "proxy", "--config", configFile, "--port", String(apiPort), "--seed", String(self.seed),
            ],
            environment: [:],
            part: "the proxy",
            grace: .seconds(2)
        )
        let api = ControlClient(port: apiPort)
        let deadline = ContinuousClock.now + .seconds(20)
        while api.request("GET", "/version")?.status != 200 {
            guard ContinuousClock.now < deadline, child.exited == nil else {
                _ = await child.stop()
                throw BenchmarkError.peerFailed("squall proxy did not answer on its control API")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let baseline = Self.descriptors(of: child.pid)
        var results: [Result] = []
        for phase in self.phases {
            let result = try await self.run(
                phase,
                child: child,
                api: api,
                proxyPort: proxyPort,
                upgrade: upgrade,
                baseline: baseline
            )
            results.append(result)
            progress(result)
            if !result.alive { break }
        }
        _ = await child.stop()
        return results
    }

    private func run(
        _ phase: Phase,
        child: ChildProcess,
        api: ControlClient,
        proxyPort: Int,
        upgrade: [UInt8],
        baseline: Int
    ) async throws -> Result {
        let pid = child.pid
        _ = api.request("POST", "/reset")
        let before = Self.descriptors(of: pid)
        if let fault = phase.fault {
            guard let status = api.request("POST", "/proxies/hostile/toxics", body: fault)?.status, status == 200
            else {
                guard await Self.hasExited(child) == nil else {
                    throw BenchmarkError.peerFailed("the control API refused the \(phase.name) fault: \(fault)")
                }
                return Result(
                    phase: phase.name,
                    streams: 0,
                    alive: false,
                    apiAnswered: false,
                    requestPassed: false,
                    webSocketPassed: false,
                    descriptorsBefore: before,
                    descriptorsAfterStreams: -1,
                    descriptorsBackMilliseconds: nil,
                    residentMB: -1
                )
            }
        }
        let (seed, streams, concurrency) = (self.seed, self.streams, max(1, self.concurrency))
        var phaseRandom = SeededRandom(seed: seed, labels: ["hostile", phase.name])
        let phaseSeed = phaseRandom.next()
        try await blocking {
            DispatchQueue.concurrentPerform(iterations: concurrency) { worker in
                for index in stride(from: worker, to: streams, by: concurrency) {
                    Self.send(HostileStream.generate(seed: phaseSeed, index: index, upgrade: upgrade), port: proxyPort)
                }
            }
        }
        let afterStreams = Self.descriptors(of: pid)
        _ = api.request("POST", "/reset")
        let lifted = ContinuousClock.now
        var alive = child.exited == nil
        let apiAnswered = alive && api.request("GET", "/version")?.status == 200
        let requestPassed = alive && Self.requestPasses(port: proxyPort)
        let webSocketPassed = alive && Self.webSocketPasses(port: proxyPort, upgrade: upgrade)
        if !(apiAnswered && requestPassed && webSocketPassed) {
            // A process that is dying may still be listed: give it a moment to be seen for what it is.
            alive = await Self.hasExited(child) == nil
        }
        var backMilliseconds: Int?
        while alive, lifted.duration(to: .now) < .seconds(10) {
            let open = Self.descriptors(of: pid)
            if open >= 0, open <= baseline + 4 {
                let elapsed = lifted.duration(to: .now)
                backMilliseconds = Int(elapsed / .milliseconds(1))
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return Result(
            phase: phase.name,
            streams: streams,
            alive: alive && child.exited == nil,
            apiAnswered: apiAnswered,
            requestPassed: requestPassed,
            webSocketPassed: webSocketPassed,
            descriptorsBefore: before,
            descriptorsAfterStreams: afterStreams,
            descriptorsBackMilliseconds: backMilliseconds,
            residentMB: Self.residentMB(of: pid)
        )
    }

    /// How the child ended, waiting up to 2 s for it to; nil while it runs.
    private static func hasExited(_ child: ChildProcess) async -> ChildProcess.Termination? {
        let deadline = ContinuousClock.now + .seconds(2)
        while child.exited == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return child.exited
    }

    /// Sends one stream and leaves as it says; every failure of the peer (refused, reset) is part of the game.
    static func send(_ stream: HostileStream, port: Int) {
        guard let socket = try? BlockingSocket(port: port) else { return }
        for write in stream.writes {
            if stream.byteByByte {
                for byte in write {
                    guard (try? socket.send([byte])) != nil else { break }
                    usleep(1_000)
                }
            } else if (try? socket.send(write)) == nil {
                break
            }
        }
        switch stream.ending {
        case .close:
            _ = socket.read(timeout: 0.01)
        case .halfClose:
            socket.shutdownWrite()
            _ = socket.readToEnd(timeout: 0.05)
        case .reset:
            socket.resetOnClose()
        }
    }

    /// Whether `GET /healthz` through the proxy is answered 200.
    static func requestPasses(port: Int) -> Bool {
        guard let socket = try? BlockingSocket(port: port),
            (try? socket.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) != nil
        else { return false }
        let answer = String(decoding: socket.readToEnd(timeout: 5).bytes, as: UTF8.self)
        return answer.hasPrefix("HTTP/1.1 200")
    }

    /// Whether a WebSocket upgrade through the proxy is answered 101, and the protocol's `ready` frame sent after
    /// it is answered with a text frame (`ready_ack`): frames pass both ways.
    static func webSocketPasses(port: Int, upgrade: [UInt8]) -> Bool {
        guard let socket = try? BlockingSocket(port: port), (try? socket.send(upgrade)) != nil else { return false }
        var received: [UInt8] = []
        let headEnd = Array("\r\n\r\n".utf8)
        var frameStart: Int?
        while true {
            guard case .data(let chunk) = socket.read(timeout: 5) else { return false }
            received += chunk
            if frameStart == nil {
                guard let end = Self.index(of: headEnd, in: received) else { continue }
                guard String(decoding: received.prefix(12), as: UTF8.self) == "HTTP/1.1 101" else { return false }
                frameStart = end + 4
                guard (try? socket.send(Self.readyFrame)) != nil else { return false }
            }
            if let start = frameStart, received.count > start { return received[start] == 0x81 }
        }
    }

    /// The progress protocol's `ready` as a client sends it: a masked text frame.
    static let readyFrame: [UInt8] = {
        let payload = Array(#"{"type":"ready","lastSeq":0}"#.utf8)
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        return [0x81, 0x80 | UInt8(payload.count)] + mask
            + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }()

    private static func index(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    /// Open descriptors of process `pid`.
    static func descriptors(of pid: pid_t) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// Resident memory of process `pid` in MB, from `/proc/PID/statm`.
    static func residentMB(of pid: pid_t) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return -1 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return -1 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    /// The results as a Markdown table.
    public static func table(_ results: [Result]) -> String {
        var lines = [
            "| fault | streams | alive | API | request | WebSocket | fds before | fds after streams | fds back within | RSS MB |",
            "|---|---:|---|---|---|---|---:|---:|---:|---:|",
        ]
        func mark(_ flag: Bool) -> String { flag ? "yes" : "**no**" }
        for result in results {
            let back = result.descriptorsBackMilliseconds.map { "\($0) ms" } ?? "**not in 10 s**"
            lines.append(
                "| \(result.phase) | \(result.streams) | \(mark(result.alive)) | \(mark(result.apiAnswered)) | "
                    + "\(mark(result.requestPassed)) | \(mark(result.webSocketPassed)) | \(result.descriptorsBefore) | "
                    + "\(result.descriptorsAfterStreams) | \(back) | \(format1(result.residentMB)) |"
            )
        }
        return lines.joined(separator: "\n")
    }
}
