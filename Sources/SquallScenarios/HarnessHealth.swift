import SquallFaults

/// How well the harness itself kept up during a run, computed from its `harness_lag` events (see
/// ``HarnessMonitor``) against the scenario's ``HarnessBound``.
///
/// Lag is how late a probe timer fired: one on every event loop the sockets run on and one on the Swift
/// concurrency executor the clients, jobs and timeline run on. A late probe means every timer and every read
/// queued beside it was late too — the client's connect timeout fired while its upgrade answer sat unread — so a
/// gate that failed while the harness lagged beyond the bound may be the harness's failure, not the app's.
public struct HarnessHealth: Sendable, Hashable {
    /// Whether the log has harness samples at all (older logs do not).
    public var measured: Bool
    /// Whether the run was simulated (`squall sim`): virtual time waits for the harness, which cannot fall behind.
    public var simulated: Bool
    /// The bound the lag is judged against.
    public var bound: HarnessBound
    /// Every lag sample (real ms), all probes pooled.
    public var lagSamples: Int
    /// Lag percentiles over every sample (real ms): p50, p95, p99, max; nil without samples.
    public var lagP50: Double?
    /// p95 lag.
    public var lagP95: Double?
    /// p99 lag.
    public var lagP99: Double?
    /// Largest lag.
    public var lagMax: Double?
    /// The probe with the largest lag (`executor`, `loop-0`, …).
    public var worstProbe: String?
    /// Samples above the bound.
    public var samplesOverBound: Int
    /// The largest number of events waiting for the disk at a sample.
    public var writerBacklogMax: Int
    /// Process CPU time per wall second (1 = one core busy): median and largest over the samples.
    public var cpuMedian: Double?
    /// Largest CPU use in one sample.
    public var cpuMax: Double?
    /// The machine's cores, as the run saw them.
    public var cores: Int?
    /// `debug` or `release`: how the harness was built.
    public var build: String?

    /// Whether any probe fired later than the bound.
    public var overloaded: Bool {
        self.samplesOverBound > 0
    }

    /// Reads the harness samples of a run.
    public init(records: [EventRecord], scenario: Scenario, header: EventRecord?) {
        self.bound = HarnessBound(scenario)
        self.simulated = header?.string("mode") == "sim"
        self.cores = header?.integer("cores")
        self.build = header?.string("build")
        var lags: [Double] = []
        var cpu: [Double] = []
        var backlog = 0
        var worst: (lag: Double, probe: String)?
        for record in records where record.runEvent == .harnessLag {
            if case .object(let probes)? = record["lagMs"] {
                for (probe, value) in probes.sorted(by: { $0.key < $1.key }) {
                    guard case .array(let samples) = value else { continue }
                    for case .number(let lag) in samples {
                        lags.append(lag)
                        if lag > (worst?.lag ?? -1) { worst = (lag, probe) }
                    }
                }
            }
            if let share = record.number("cpu") { cpu.append(share) }
            backlog = max(backlog, record.integer("writerBacklog") ?? 0)
        }
        let sorted = lags.sorted()
        self.measured = !sorted.isEmpty
        self.lagSamples = sorted.count
        self.lagP50 = sorted.isEmpty ? nil : RunMetrics.percentile(sorted, 50)
        self.lagP95 = sorted.isEmpty ? nil : RunMetrics.percentile(sorted, 95)
        self.lagP99 = sorted.isEmpty ? nil : RunMetrics.percentile(sorted, 99)
        self.lagMax = sorted.last
        self.worstProbe = worst?.probe
        let limit = self.bound.milliseconds
        self.samplesOverBound = sorted.reversed().prefix { $0 > limit }.count
        self.writerBacklogMax = backlog
        let cpuSorted = cpu.sorted()
        self.cpuMedian = cpuSorted.isEmpty ? nil : RunMetrics.percentile(cpuSorted, 50)
        self.cpuMax = cpuSorted.last
    }

    /// One line for terminals and reports, e.g. `healthy: lag p99 1.2 ms, max 4.1 ms (bound 40 ms); CPU 0.9 cores`.
    public var summary: String {
        guard self.measured, let p99 = self.lagP99, let maximum = self.lagMax else {
            if self.simulated { return "simulated: virtual time waits for the harness, so it never falls behind" }
            return "not measured (a log from an older Squall)"
        }
        var text = self.overloaded ? "OVERLOADED" : "healthy"
        text += ": lag p99 \(Self.format(p99)) ms, max \(Self.format(maximum)) ms"
        if let probe = self.worstProbe { text += " (\(probe))" }
        text += ", bound \(Self.format(self.bound.milliseconds)) ms"
        if self.overloaded { text += "; \(self.samplesOverBound) of \(self.lagSamples) probes over it" }
        if let cpu = self.cpuMax {
            text += "; CPU up to \(Self.format(cpu)) cores"
            if let cores = self.cores { text += " of \(cores)" }
        }
        if self.writerBacklogMax > 0 { text += "; event writer backlog up to \(self.writerBacklogMax)" }
        if let build = self.build { text += "; \(build) build" }
        return text
    }

    /// What to do about an overloaded harness, for reports.
    public var advice: String {
        var steps: [String] = []
        if self.build == "debug" { steps.append("use a release build (`swift run -c release squall …`)") }
        steps.append("run fewer clients (see `squall bench capacity` for what this machine carries)")
        steps.append(
            "raise `timeScale` (slower timings give the harness more room: the bound is a tenth of the shortest)"
        )
        steps.append("give the run a quieter machine or more cores")
        return steps.joined(separator: "; ")
    }

    /// A figure rounded to one decimal, for reports.
    package static func format(_ value: Double) -> String {
        JSONValue.format((value * 10).rounded() / 10)
    }
}
