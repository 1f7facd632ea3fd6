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
    /// When the harness fell behind, with what used the machine meanwhile (see ``OverloadWindow``).
    public var windows: [OverloadWindow] = []
    /// The machine's busy cores (every process), median over the samples; nil when not measured.
    public var machineCpuMedian: Double?
    /// Per process Squall started for the system under test, its largest one-second use in cores.
    public var appCpuMax: [String: Double] = [:]
    /// Squall's resident memory (MB) at its first sample a minute or more into the run (its last, in a shorter
    /// run): the baseline a long run's memory is judged against. Nil without samples.
    public var residentAfterFirstMinute: Double?
    /// Squall's resident memory (MB) at its last sample.
    public var residentAtEnd: Double?
    /// Squall's largest resident memory (MB) at a sample.
    public var residentMax: Double?
    /// When the run started (its first event, log time), which the windows are reported from.
    public var runStart: Double = 0

    /// The windows that excuse a failure: those the app's own processes did not cause.
    public var excusingWindows: [OverloadWindow] {
        self.windows.filter(\.excuses)
    }

    /// The share of `[start, end]` (log times) that excusing overload windows cover, 0…1.
    public func overloadShare(from start: Double, to end: Double) -> Double {
        guard end > start else { return self.excusingWindows.contains { $0.start <= end && start <= $0.end } ? 1 : 0 }
        let covered = self.excusingWindows.reduce(0.0) { total, window in
            total + max(0, min(end, window.end) - max(start, window.start))
        }
        return min(1, covered / (end - start))
    }

    /// Whether any probe fired later than the bound.
    public var overloaded: Bool {
        self.samplesOverBound > 0
    }

    /// Reads the harness samples of a run from its runner's events (any others are passed over); `runStart` is
    /// the run's first event's time (the first of `records` when nil).
    public init(events records: [LoggedEvent], scenario: Scenario, header: RunHeader?, runStart: Double? = nil) {
        self.bound = HarnessBound(scenario)
        self.simulated = header?.isSimulated ?? false
        self.cores = header?.cores
        self.build = header?.build
        var lags: [Double] = []
        var cpu: [Double] = []
        var backlog = 0
        var worst: (lag: Double, probe: String)?
        let limit = self.bound.milliseconds
        let runStart = runStart ?? records.first?.time ?? 0
        let cores = header?.cores
        var reportStart = runStart
        var machine: [Double] = []
        var windows: [OverloadWindow] = []
        var appCpuMax: [String: Double] = [:]
        /// The window being built: its reports' samples, summed to average at the end.
        var open: (window: OverloadWindow, reports: Int, machine: Double, harness: Double, app: [String: Double])?
        func close() {
            guard var current = open else { return }
            open = nil
            let reports = Double(current.reports)
            current.window.machineCores = current.machine.isNaN ? nil : current.machine / reports
            current.window.harnessCores = current.harness / reports
            current.window.appCores = current.app.mapValues { $0 / reports }
            if let cores, cores > 0 {
                current.window.causedByApp = current.window.appTotal >= OverloadWindow.appShare * Double(cores)
            }
            windows.append(current.window)
        }
        // The app's process groups are logged by leader pid; the log's own events name them.
        var names: [String: String] = [:]
        var lagReports:
            [(
                time: Double, lagMs: [String: [Double]], backlog: Int, cpu: Double, machine: Double?,
                app: [String: Double]
            )] = []
        var resident: [(time: Double, megabytes: Double)] = []
        for record in records {
            guard case .run(let event) = record.event else { continue }
            switch event {
            case .serverStarted(_, let pid, _): names["\(pid)"] = "server"
            case .clientProcess(let id, let pid, _): names["\(pid)"] = "client \(id)"
            case .harnessLag(let lagMs, let backlog, let cpu, let machine, let app, let residentMB):
                lagReports.append((record.time, lagMs, backlog, cpu, machine, app))
                if let residentMB { resident.append((record.time, residentMB)) }
            case .scenario, .clientStarted, .clientFailedToStart, .clientExited, .clientTerminated, .clientKilled,
                .clientOutputMalformed, .faultApplied, .faultNotApplied, .faultLifted, .handoff, .profile,
                .clientsSuspended, .serverRestart, .serverReady, .serverExited, .publicationsUnknown, .runEnded:
                continue
            }
        }
        for report in lagReports {
            var reportWorst = 0.0
            for (probe, samples) in report.lagMs.sorted(by: { $0.key < $1.key }) {
                for lag in samples {
                    lags.append(lag)
                    reportWorst = max(reportWorst, lag)
                    if lag > (worst?.lag ?? -1) { worst = (lag, probe) }
                }
            }
            cpu.append(report.cpu)
            let machineCores = report.machine
            if let machineCores { machine.append(machineCores) }
            var appCores: [String: Double] = [:]
            for (key, used) in report.app {
                let name = names[key] ?? key
                appCores[name, default: 0] += used
                appCpuMax[name] = max(appCpuMax[name] ?? 0, used)
            }
            backlog = max(backlog, report.backlog)
            if reportWorst > limit {
                if open == nil {
                    open = (
                        OverloadWindow(start: reportStart, end: report.time, worstLag: 0), 0, 0, 0, [:]
                    )
                }
                open!.window.end = report.time
                open!.window.worstLag = max(open!.window.worstLag, reportWorst)
                open!.reports += 1
                open!.machine += machineCores ?? .nan
                open!.harness += report.cpu
                for (name, used) in appCores { open!.app[name, default: 0] += used }
            } else {
                close()
            }
            reportStart = report.time
        }
        close()
        self.runStart = runStart
        self.residentAfterFirstMinute = (resident.first { $0.time - runStart >= 60_000 } ?? resident.last)?.megabytes
        self.residentAtEnd = resident.last?.megabytes
        self.residentMax = resident.map(\.megabytes).max()
        self.windows = windows
        self.appCpuMax = appCpuMax
        let machineSorted = machine.sorted()
        self.machineCpuMedian = machineSorted.isEmpty ? nil : RunMetrics.percentile(machineSorted, 50)
        let sorted = lags.sorted()
        self.measured = !sorted.isEmpty
        self.lagSamples = sorted.count
        self.lagP50 = sorted.isEmpty ? nil : RunMetrics.percentile(sorted, 50)
        self.lagP95 = sorted.isEmpty ? nil : RunMetrics.percentile(sorted, 95)
        self.lagP99 = sorted.isEmpty ? nil : RunMetrics.percentile(sorted, 99)
        self.lagMax = sorted.last
        self.worstProbe = worst?.probe
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
        if self.overloaded {
            text += "; \(self.samplesOverBound) of \(self.lagSamples) probes over it"
            let seconds = self.windows.reduce(0) { $0 + $1.length } / 1_000
            text += ", in \(self.windows.count) window(s) covering \(Self.format(seconds)) s"
        }
        for window in self.windows where window.causedByApp {
            text += "; \(window.appSentence(runStart: self.runStart, cores: self.cores))"
        }
        if let cpu = self.cpuMax {
            text += "; CPU up to \(Self.format(cpu)) cores"
            if let cores = self.cores { text += " of \(cores)" }
        }
        if self.writerBacklogMax > 0 { text += "; event writer backlog up to \(self.writerBacklogMax)" }
        if let start = self.residentAfterFirstMinute, let end = self.residentAtEnd {
            text += "; memory \(Self.format(start)) MB after the first minute, \(Self.format(end)) MB at the end"
        }
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
