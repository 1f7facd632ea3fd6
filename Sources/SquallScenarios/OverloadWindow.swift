import SquallFaults

/// A stretch of a run in which the harness fell behind: one or more consecutive one-second `harness_lag` reports
/// with a probe later than the bound, and what used the machine meanwhile.
///
/// A window excuses the samples it overlaps only when the machine was not busy with the system under test's own
/// processes: when the processes Squall started for the app (an external server, external clients) used at least
/// ``appShare`` of the machine's cores during it, the overload is the app's doing (a reconnect loop without backoff
/// saturating the cores is the very bug Squall exists to catch), and the window is reported as the app's, never
/// as an excuse.
public struct OverloadWindow: Sendable, Hashable {
    /// When it began (log time, ms since the epoch): the start of its first over-bound report's second.
    public var start: Double
    /// When it ended (log time): its last over-bound report.
    public var end: Double
    /// The latest probe in it (real ms).
    public var worstLag: Double
    /// The machine's busy cores, averaged over the window (all processes); nil when not measured.
    public var machineCores: Double?
    /// Squall's own process's busy cores, averaged over the window.
    public var harnessCores: Double?
    /// The busy cores of each process Squall started for the system under test (`server`, `client c-1`, …),
    /// averaged over the window.
    public var appCores: [String: Double] = [:]
    /// Whether the system under test's own processes used at least ``appShare`` of the cores during it.
    public var causedByApp: Bool = false

    /// The share of the machine's cores the app's processes must use for an overload to be the app's: one half.
    public static let appShare: Double = 0.5

    /// Whether it excuses a failure: only when the app did not cause it.
    public var excuses: Bool { !self.causedByApp }

    /// Its length in ms.
    public var length: Double { self.end - self.start }

    /// The app's busy cores in total.
    public var appTotal: Double { self.appCores.values.reduce(0, +) }

    /// `the server under test used 1.9 of 2 cores from 12.1 s to 18.4 s` (real seconds since `runStart`, the run's
    /// first event time), for reports.
    public func appSentence(runStart: Double, cores: Int?) -> String {
        let sorted = self.appCores.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        var names = sorted.prefix(3).map { name, used in "\(Self.describe(name)) used \(HarnessHealth.format(used))" }
        if sorted.count > 3 {
            let rest = sorted.dropFirst(3).reduce(0) { $0 + $1.value }
            names.append("\(sorted.count - 3) more of its processes \(HarnessHealth.format(rest))")
        }
        let of = cores.map { " of \($0) cores" } ?? " cores"
        return names.joined(separator: ", ") + of + " " + self.span(runStart: runStart)
    }

    /// `from 12.1 s to 18.4 s` (real seconds since the run's start).
    public func span(runStart: Double) -> String {
        "from \(HarnessHealth.format((self.start - runStart) / 1_000)) s to "
            + "\(HarnessHealth.format((self.end - runStart) / 1_000)) s"
    }

    private static func describe(_ process: String) -> String {
        process == "server" ? "the server under test" : "the app's \(process)"
    }
}
