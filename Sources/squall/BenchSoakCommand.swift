import ArgumentParser
import Foundation
import SquallBenchmarks
import SquallScenarios

/// `squall bench soak`: churn, idle and hostile connections against the proxy, with its descriptors and memory after
/// each phase.
struct BenchSoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Measure what the proxy keeps (descriptors, memory) after churn, idle and hostile connections.",
        discussion: """
            The proxies run in this process; the servers behind them and every client run in a child process, so \
            the figures are the proxy's. Phases: 2 000 mixed connections, --churn more (echo a byte, close at once, \
            reset at once, in turn), --idle connections held open, then --hostile-streams hostile streams at a proxy \
            with each block_upgrade mode, measured with the fault in force and after it is removed. Exit 0 when \
            descriptors come back within 5 of the warm-up figure after every phase (with a fault in force, once it \
            is removed) and memory meets its goals (churn: at most 20 MB over the warm-up; idle: 150 MB with \
            10 000 connections, scaled to --idle), 1 otherwise — also when a phase left no sample. Build with -c \
            release.
            """
    )

    @Option(help: "Connections of the churn phase.")
    var churn: Int = 100_000

    @Option(help: "Connections held open in the idle phase (each takes two of the proxy's descriptors).")
    var idle: Int = 8_000

    @Option(help: "Hostile streams per block_upgrade mode.")
    var hostileStreams: Int = 1_000

    func validate() throws {
        guard self.churn >= 0, self.hostileStreams >= 0, self.idle >= 0 else {
            throw ValidationError("--churn, --idle and --hostile-streams must not be negative")
        }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        let executable = OwnExecutable.path
        // The proxy holds two descriptors per idle connection, the driver one: raise the limit (the hard one too
        // when running as root) before the driver starts, so it inherits it.
        let needed = 2 * self.idle + 100
        let (limit, raisedFrom) = DescriptorBudget.raiseLimit(toAtLeast: needed)
        if let raisedFrom {
            print("… raised the hard descriptor limit from \(raisedFrom) to \(limit) for \(self.idle) idle connections")
        } else if limit < needed {
            print(
                "… the descriptor limit is \(limit) and cannot be raised here (it takes root with CAP_SYS_RESOURCE): "
                    + "\(self.idle) idle connections need about \(needed); lower --idle to \((limit - 100) / 2) at most"
            )
            throw ExitCode(1)
        }
        let benchmark = SoakBenchmark(churn: self.churn, idle: self.idle, hostileStreams: self.hostileStreams)
        let samples = try await benchmark.run(executable: executable) { print("… \($0)") }
        print(SoakBenchmark.table(samples))
        let goals = SoakBenchmark.memoryGoals(samples, churn: self.churn, idle: self.idle)
        for goal in goals { print("\(goal.met ? "met" : "MISSED"): \(goal.text)") }
        if goals.contains(where: { !$0.met }) { throw ExitCode(1) }
        guard let warm = samples.first(where: { $0.phase.hasPrefix("after 2 000") }) else { throw ExitCode(1) }
        let measured = samples.drop { !$0.phase.hasPrefix("after 2 000") }
        // With a fault in force, what the proxy holds is what the fault means (`blackhole_after_101` keeps the
        // server's side of a black-holed connection open until it is lifted): only the figure after its removal,
        // and every other phase's, must be back at the warm-up one.
        let leaks = measured.filter {
            !$0.phase.hasPrefix("with ") && !$0.phase.hasSuffix("fault in force")
                && abs($0.descriptors - warm.descriptors) > 5
        }
        if !leaks.isEmpty {
            print(
                "descriptors did not come back to the warm-up figure (\(warm.descriptors) ± 5) after: "
                    + leaks.map(\.phase).joined(separator: "; ")
            )
            throw ExitCode(1)
        }
    }
}

/// `squall bench soak-driver`: the client side of `bench soak` (started by it; not meant to be run by hand).
struct BenchSoakDriverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak-driver",
        abstract: "The client side of `squall bench soak` (started by it).",
        shouldDisplay: false
    )

    @Option var echoPort: Int
    @Option var referencePort: Int
    @Option var proxyPort: Int
    @Option var churn: Int
    @Option var idle: Int
    @Option var hostileStreams: Int
    @Option(help: "MODE=PORT") var hostile: [String] = []

    func run() async throws {
        StandardOutput.useLineBuffering()
        let targets = self.hostile.compactMap { entry -> SoakDriver.HostileTarget? in
            let parts = entry.split(separator: "=")
            guard parts.count == 2, let port = Int(parts[1]) else { return nil }
            return SoakDriver.HostileTarget(mode: String(parts[0]), port: port)
        }
        let driver = SoakDriver(
            echoPort: self.echoPort,
            referencePort: self.referencePort,
            proxyPort: self.proxyPort,
            hostile: targets,
            churn: self.churn,
            idle: self.idle,
            hostileStreams: self.hostileStreams
        )
        try await driver.run { print($0) }
    }
}
