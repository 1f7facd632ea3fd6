import Foundation
import NIOCore
import SquallFaults
import SquallProxy
import SquallScenarios

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `squall bench soak`: long churn and hostile input against the proxy, measuring what it keeps — open descriptors
/// and resident memory of the proxy's own process — after each phase.
///
/// The proxies run in this process; the servers behind them and every client run in a child process
/// (``SoakDriver``), so the figures are the proxy's alone. Phases: 2 000 mixed connections (warm-up), the churn
/// (echo a byte, close at once, reset at once, in turn), idle connections held open, then hostile streams (garbage,
/// upgrades closed, reset, cut in half or half-closed) at a proxy with each `block_upgrade` mode, measured with the
/// fault in force (its peers gone) and again after `POST /reset`'s equivalent.
public struct SoakBenchmark: Sendable {
    /// One measurement.
    public struct Sample: Sendable {
        /// After which phase.
        public var phase: String
        /// Open descriptors of this process.
        public var descriptors: Int
        /// Resident memory of this process, in MB.
        public var residentMB: Double
        /// Connections the proxies still list.
        public var listed: Int

        /// A sample of a phase.
        public init(phase: String, descriptors: Int, residentMB: Double, listed: Int) {
            self.phase = phase
            self.descriptors = descriptors
            self.residentMB = residentMB
            self.listed = listed
        }
    }

    /// Connections of the churn phase.
    public var churn: Int
    /// Connections held open in the idle phase.
    public var idle: Int
    /// Hostile streams per `block_upgrade` mode.
    public var hostileStreams: Int

    /// Creates the benchmark.
    public init(churn: Int = 100_000, idle: Int = 8_000, hostileStreams: Int = 1_000) {
        self.churn = churn
        self.idle = idle
        self.hostileStreams = hostileStreams
    }

    /// The `block_upgrade` modes the hostile phase covers.
    static let modes = ["reject", "strip", "reset", "hang", "blackhole_after_101", "buffer_after_101"]

    /// Runs the phases; `progress` gets each phase as it ends.
    ///
    /// - Parameter executable: this program, started again as `bench soak-driver` for the client side.
    public func run(executable: String, progress: @escaping @Sendable (String) -> Void) async throws -> [Sample] {
        let echoPort = try PeerProxy.freePort()
        let referencePort = try PeerProxy.freePort()
        let main = ProxyServer(
            configuration: ProxyConfiguration(name: "soak", upstream: HostAndPort(host: "127.0.0.1", port: echoPort))
        )
        try await main.start()
        var hostile: [(mode: String, proxy: ProxyServer)] = []
        for mode in Self.modes {
            let fault = try Fault(name: "block", type: .blockUpgrade, text: ["mode": mode])
            let proxy = ProxyServer(
                configuration: ProxyConfiguration(
                    name: "soak-\(mode)",
                    upstream: HostAndPort(host: "127.0.0.1", port: referencePort),
                    faults: [fault]
                )
            )
            try await proxy.start()
            hostile.append((mode, proxy))
        }
        let proxies = [main] + hostile.map(\.proxy)
        func listed() -> Int { proxies.reduce(0) { $0 + $1.connections.count } }
        func settle() async {
            let deadline = ContinuousClock.now + .seconds(2)
            while listed() > 0, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        }
        var samples = [
            Sample(phase: "start", descriptors: Self.descriptors(), residentMB: Self.residentMB(), listed: 0)
        ]
        func measure(_ phase: String) {
            let sample = Sample(
                phase: phase,
                descriptors: Self.descriptors(),
                residentMB: Self.residentMB(),
                listed: listed()
            )
            samples.append(sample)
            progress(
                "\(phase): \(sample.descriptors) descriptors, \(format1(sample.residentMB)) MB, \(sample.listed) listed"
            )
        }

        var arguments = [
            executable, "bench", "soak-driver", "--echo-port", String(echoPort), "--reference-port",
            String(referencePort), "--proxy-port", String(main.listenAddress!.port!), "--churn", String(self.churn),
            "--idle", String(self.idle), "--hostile-streams", String(self.hostileStreams),
        ]
        for (mode, proxy) in hostile { arguments += ["--hostile", "\(mode)=\(proxy.listenAddress!.port!)"] }
        let (lines, announce) = AsyncStream<String>.makeStream()
        let driver = try await ChildProcess.start(
            arguments: arguments,
            environment: [:],
            part: "the soak driver",
            grace: .seconds(2),
            lines: { _, bytes in announce.yield(String(decoding: bytes, as: UTF8.self)) }
        )
        let watcher = Task {
            _ = await driver.waitForExit()
            announce.finish()
        }
        defer { watcher.cancel() }
        for await line in lines {
            let words = line.split(separator: " ").map(String.init)
            switch SoakDriver.Phase(rawValue: words.first ?? "") {
            case .ready, .none:
                continue
            case .warmedUp:
                await settle()
                measure("after 2 000 warm-up connections")
            case .churned:
                await settle()
                measure("after \(self.churn) churned connections")
            case .idleOpen:
                measure("with \(words.dropFirst().first ?? "?") idle connections open")
            case .idleClosed:
                await settle()
                measure("after the idle connections closed")
            case .hostileDone:
                let mode = words.dropFirst().first ?? "?"
                await settle()
                measure("after \(self.hostileStreams) hostile streams, block_upgrade \(mode), fault in force")
                if let proxy = hostile.first(where: { $0.mode == mode })?.proxy {
                    try await proxy.removeAllFaults()
                    await settle()
                    measure("… and after the fault was removed")
                }
            case .finished:
                await settle()
                measure("at the end")
            }
        }
        let termination = await driver.waitForExit()
        for proxy in proxies { await proxy.stop() }
        if case .exited(0)? = termination {
            return samples
        }
        let errors = await driver.output().errors.split(separator: "\n").suffix(5).joined(separator: "\n")
        throw BenchmarkError.peerFailed("the soak driver ended with \(termination.map { "\($0)" } ?? "?"): \(errors)")
    }

    /// Open descriptors of this process.
    static func descriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// Resident memory of this process in MB, from `/proc/self/statm`.
    static func residentMB() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return -1 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return -1 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    /// The samples as a Markdown table.
    public static func table(_ samples: [Sample]) -> String {
        var lines = ["| after | descriptors | resident MB | connections listed |", "|---|---:|---:|---:|"]
        for sample in samples {
            lines.append(
                "| \(sample.phase) | \(sample.descriptors) | \(format1(sample.residentMB)) | \(sample.listed) |"
            )
        }
        return lines.joined(separator: "\n")
    }

    /// One memory goal of the soak, judged on its samples.
    public struct Goal: Sendable, Hashable {
        /// What was measured against what, e.g. `memory with 9900 idle connections at most 148.8 MB …: 132.1 MB`.
        public var text: String
        /// Whether it was met.
        public var met: Bool
    }

    /// The most resident memory may grow over the churn phase, in MB.
    public static let churnGrowthGoal: Double = 20
    /// Resident memory with 10 000 idle connections open, at most, in MB.
    public static let idleGoal: Double = 150
    /// What resident memory may move by for allocator noise alone, in MB.
    public static let noise: Double = 2

    /// The memory goals of a run with `churn` churned and `idle` idle connections: after the churn within
    /// ``churnGrowthGoal`` of the warm-up figure; with the idle connections open at most ``idleGoal`` for 10 000,
    /// scaled to `idle` over the warm-up figure (never under ``noise`` above it). A phase without its sample is a
    /// goal missed: nothing was measured, so nothing passes.
    public static func memoryGoals(_ samples: [Sample], churn: Int, idle: Int) -> [Goal] {
        func format(_ value: Double) -> String { String(format: "%.1f", value) }
        guard let warm = samples.first(where: { $0.phase.hasPrefix("after 2 000") }) else {
            return [Goal(text: "no sample after the warm-up: nothing is judged", met: false)]
        }
        var goals: [Goal] = []
        if churn > 0 {
            if let churned = samples.first(where: { $0.phase.contains("churned") }) {
                let growth = churned.residentMB - warm.residentMB
                goals.append(
                    Goal(
                        text: "memory after \(churn) churned connections within \(format(Self.churnGrowthGoal)) MB of "
                            + "the warm-up: +\(format(growth)) MB",
                        met: growth <= Self.churnGrowthGoal
                    )
                )
            } else {
                goals.append(Goal(text: "no sample after the churn: nothing is judged", met: false))
            }
        }
        if idle > 0 {
            if let open = samples.first(where: { $0.phase.contains("idle connections open") }) {
                let share = (Self.idleGoal - warm.residentMB) * Double(idle) / 10_000
                let goal = warm.residentMB + max(Self.noise, share)
                goals.append(
                    Goal(
                        text: "memory with \(idle) idle connections at most \(format(goal)) MB (150 MB for 10 000): "
                            + "\(format(open.residentMB)) MB",
                        met: open.residentMB <= goal
                    )
                )
            } else {
                goals.append(Goal(text: "no sample with the idle connections open: nothing is judged", met: false))
            }
        }
        return goals
    }
}
