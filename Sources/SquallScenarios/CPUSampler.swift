import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who used the machine: the CPU of every process and of the processes Squall started, from `/proc` (Linux; elsewhere
/// nothing is measured).
///
/// The processes Squall starts for the system under test (an external server, external clients) each lead a process
/// group of their own, so a group led by a child of this process is the app's, with everything it spawned. Each
/// ``sample()`` gives the busy cores since the previous one: the machine's (all processes, from `/proc/stat`) and
/// each such group's, by its leader's pid.
package struct CPUSampler {
    /// What one sample measured.
    package struct Sample {
        /// Busy cores of the whole machine since the last sample; nil when not measurable.
        package var machine: Double?
        /// Busy cores of each process group Squall started, by its leader's pid.
        package var groups: [Int32: Double]
    }

    private var lastMachine: (busy: Double, total: Double)?
    private var lastGroups: [Int32: Double] = [:]
    private var lastTime: Double
    private let ownPID = getpid()
    private let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private let cores = Double(ProcessInfo.processInfo.activeProcessorCount)

    /// A sampler whose first sample counts from now.
    package init() {
        self.lastTime = Self.now()
        self.lastMachine = Self.machineTicks()
        self.lastGroups = self.groupTicks()
    }

    /// The busy cores since the previous sample.
    package mutating func sample() -> Sample {
        let time = Self.now()
        let seconds = max(time - self.lastTime, 0.001)
        self.lastTime = time
        var machine: Double?
        let ticks = Self.machineTicks()
        if let ticks, let last = self.lastMachine, ticks.total > last.total {
            machine = (ticks.busy - last.busy) / (ticks.total - last.total) * self.cores
        }
        self.lastMachine = ticks
        let groups = self.groupTicks()
        var used: [Int32: Double] = [:]
        for (leader, ticks) in groups {
            let delta = max(0, ticks - (self.lastGroups[leader] ?? 0))
            used[leader] = delta / self.ticksPerSecond / seconds
        }
        self.lastGroups = groups
        return Sample(machine: machine, groups: used)
    }

    private static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// The machine's busy and total CPU ticks (`/proc/stat`'s first line; idle and iowait are not busy).
    private static func machineTicks() -> (busy: Double, total: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 4 else { return nil }
        let total = values.reduce(0, +)
        let idle = values[3] + (values.count > 4 ? values[4] : 0)
        return (total - idle, total)
    }

    /// CPU ticks (user, system, and reaped children's) of every process in a group led by a child of this process,
    /// summed by group leader.
    private func groupTicks() -> [Int32: Double] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [:] }
        var processes: [(pid: Int32, parent: Int32, group: Int32, ticks: Double)] = []
        for entry in entries {
            guard let pid = Int32(entry), pid != self.ownPID,
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After the command's closing parenthesis: state ppid pgrp … utime(11) stime(12) cutime(13) cstime(14).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 14, let parent = Int32(fields[1]), let group = Int32(fields[2]) else { continue }
            let ticks = [11, 12, 13, 14].compactMap { Double(fields[$0]) }.reduce(0, +)
            processes.append((pid, parent, group, ticks))
        }
        let leaders = Set(processes.filter { $0.parent == self.ownPID && $0.group == $0.pid }.map(\.pid))
        var totals: [Int32: Double] = [:]
        for process in processes where leaders.contains(process.group) {
            totals[process.group, default: 0] += process.ticks
        }
        return totals
    }
}
