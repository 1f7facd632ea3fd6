#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// This process's resource use so far (`getrusage(RUSAGE_SELF)`): the harness's CPU for `harness_lag`, and the peak
/// memory `squall sim` prints; and its resident memory now (``residentMegabytes()``).
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

    /// The process's resident memory now, in MB (`/proc/self/statm`); nil where there is no such file.
    package static func residentMegabytes() -> Double? {
        let descriptor = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        // "size resident shared …", in pages.
        let fields = buffer[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        return (Double(pages) * pageSize / 1_048_576 * 10).rounded() / 10
    }
}
