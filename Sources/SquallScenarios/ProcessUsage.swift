#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// This process's resource use so far (`getrusage(RUSAGE_SELF)`): the harness's CPU for `harness_lag`, and the peak
/// memory `squall sim` prints.
package struct ProcessUsage: Sendable {
    /// User plus system CPU time, in seconds.
    package var cpuSeconds: Double
    /// Peak resident memory, in MB.
    package var peakResidentMegabytes: Int

    /// The usage now.
    package static func current() -> ProcessUsage {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1_000_000
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1_000_000
        #if canImport(Glibc)
        // Linux reports kilobytes.
        let peak = Int(usage.ru_maxrss / 1_024)
        #else
        // Darwin reports bytes.
        let peak = Int(usage.ru_maxrss / (1_024 * 1_024))
        #endif
        return ProcessUsage(cpuSeconds: user + system, peakResidentMegabytes: peak)
    }
}
