import NIOCore
import NIOPosix
import SquallFaults
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Measures the harness's own health while a run goes on and records it in the run's log.
///
/// A probe timer every ``probeInterval`` on each event loop of the group the sockets run on, and one on the Swift
/// concurrency executor the clients, jobs and timeline run on, records how late it fired. Once a second a
/// `harness_lag` run event carries those samples (`lagMs`, by probe), the event writer's largest backlog
/// (`writerBacklog`, lines not yet on disk), the process's CPU use (`cpu`, CPU seconds per wall second), the whole
/// machine's (`machineCpu`, busy cores) and that of each process group Squall started for the system under test
/// (`appCpu`, busy cores by leader pid; see ``CPUSampler``), and Squall's own resident memory (`rssMB`).
/// ``HarnessHealth`` judges them against the scenario's ``HarnessBound``.
final class HarnessMonitor: Sendable {
    /// How often each probe fires.
    static let probeInterval: Duration = .milliseconds(50)
    /// How often samples are recorded.
    static let reportInterval: Duration = .seconds(1)

    private struct Window {
        var lags: [String: [Double]] = [:]
        var backlog = 0
    }

    private let log: EventLog
    private let loops: [any EventLoop]
    private let window = Mutex(Window())
    private let stopped = Atomic(false)
    /// Test hook: block every event loop this long once a second (nil: never).
    private let stall: Duration?

    /// Creates a monitor for the loops of `eventLoopGroup`.
    ///
    /// - Parameters:
    ///   - log: where samples go.
    ///   - eventLoopGroup: the loops to probe.
    ///   - stall: for tests of the verdict only: block every loop this long once a second.
    init(
        log: EventLog,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        stall: Duration? = nil
    ) {
        self.log = log
        var loops: [any EventLoop] = []
        for loop in eventLoopGroup.makeIterator() { loops.append(loop) }
        self.loops = loops
        self.stall = stall
    }

    /// Probes until the task is cancelled, then records the last samples.
    func run() async {
        for (index, loop) in self.loops.enumerated() {
            self.probe(loop, name: "loop-\(index)")
        }
        let clock = ContinuousClock()
        var due = clock.now + Self.probeInterval
        var reported = (at: clock.now, cpu: ProcessUsage.current().cpuSeconds)
        var machine = CPUSampler()
        var stalled = clock.now - Self.reportInterval
        while !Task.isCancelled {
            do {
                try await clock.sleep(until: due)
            } catch {
                break
            }
            let now = clock.now
            self.add("executor", lag: now - due)
            self.window.withLock { $0.backlog = max($0.backlog, self.log.backlog) }
            due = now + Self.probeInterval
            if let stall = self.stall, now - stalled >= Self.reportInterval {
                stalled = now
                for loop in self.loops {
                    loop.execute { Self.block(for: stall) }
                }
            }
            if now - reported.at >= Self.reportInterval {
                let cpu = ProcessUsage.current().cpuSeconds
                self.report(
                    cpu: (cpu - reported.cpu) * 1_000 / (now - reported.at).milliseconds,
                    machine: machine.sample()
                )
                reported = (now, cpu)
            }
        }
        self.stopped.store(true, ordering: .relaxed)
        let now = clock.now
        if now - reported.at > Self.probeInterval {
            self.report(
                cpu: (ProcessUsage.current().cpuSeconds - reported.cpu) * 1_000 / (now - reported.at).milliseconds,
                machine: machine.sample()
            )
        }
    }

    private func probe(_ loop: any EventLoop, name: String) {
        guard !self.stopped.load(ordering: .relaxed) else { return }
        let due = NIODeadline.now() + TimeAmount(Self.probeInterval)
        loop.scheduleTask(deadline: due) {
            self.add(name, lag: .nanoseconds((NIODeadline.now() - due).nanoseconds))
            self.probe(loop, name: name)
        }
    }

    private func add(_ probe: String, lag: Duration) {
        let milliseconds = max(0, (lag.milliseconds * 100).rounded() / 100)
        self.window.withLock { $0.lags[probe, default: []].append(milliseconds) }
    }

    private func report(cpu: Double, machine: CPUSampler.Sample) {
        let window = self.window.withLock { window in
            defer { window = Window() }
            return window
        }
        func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
        // The app's process groups that used a measurable share, by leader pid (the log's `server_started` and
        // `client_process` events name them).
        let groups = machine.groups.filter { $0.value >= 0.01 }
        self.log.record(
            .harnessLag(
                lagMs: window.lags,
                writerBacklog: window.backlog,
                cpu: rounded(cpu),
                machineCpu: machine.machine.map(rounded),
                appCpu: Dictionary(uniqueKeysWithValues: groups.map { ("\($0.key)", rounded($0.value)) }),
                residentMB: ProcessUsage.residentMegabytes()
            )
        )
    }

    private static func block(for duration: Duration) {
        let clock = ContinuousClock()
        let end = clock.now + duration
        while clock.now < end {}
    }
}
