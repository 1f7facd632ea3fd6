#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether this process can hold a run's sockets, checked before anything starts.
///
/// A process that runs out of file descriptors mid-run does not fail cleanly: accepts and connects fail at random,
/// which a gate would blame on the app, and libdispatch aborts the whole process when it cannot open a file. So
/// the runner raises its soft limit to the hard one and refuses, up front, a run that cannot fit.
///
/// Per connection, in this process: the proxy's two sockets, the reference server's one (none for an external
/// server), the reference client's own one (none for an external client, which has its standard output and error
/// pipes instead, two per client). A client holds up to one and a half connections at the peak of a reconnect
/// storm — its WebSocket and a state sync or poll beside it: measured, 2 500 reference clients through a handoff
/// peaked at 14 616 descriptors, 5.85 a client. Plus ``reserve``.
package enum DescriptorBudget {
    /// Descriptors kept for listeners, the log, pipes of servers, the runtime.
    static let reserve = 256

    /// The descriptors a scenario (or, with `shard`, its slice of the clients) needs in this process.
    static func needed(_ scenario: Scenario, shard: Shard? = nil) -> Int {
        let server = scenario.server.external == nil ? 1 : 0
        var total = Self.reserve
        for group in scenario.clients {
            let client = group.command == nil ? 1 : 0
            let perConnection = 2 + server + client
            let pipes = group.command == nil ? 0 : 2
            let count = shard.map { (group.count + $0.count - 1) / $0.count } ?? group.count
            total += count * ((perConnection * 3 + 1) / 2 + pipes)
        }
        return total
    }

    /// Raises the soft descriptor limit to the hard one and returns it.
    static func raiseLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return 1_024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Self.resource, &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur > rlim_t(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)
    }

    /// Makes this process (and the children it starts after) able to open `needed` descriptors: raises the soft
    /// limit to the hard one, and the hard one too when it is lower and the process may (root, up to the kernel's
    /// `fs.nr_open`).
    ///
    /// - Returns: the limit now, and the hard limit before, when it had to be raised.
    package static func raiseLimit(toAtLeast needed: Int) -> (limit: Int, raisedHardFrom: Int?) {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return (1_024, nil) }
        var raisedFrom: Int?
        if limit.rlim_max < rlim_t(needed) {
            var raised = limit
            raised.rlim_max = rlim_t(needed)
            raised.rlim_cur = rlim_t(needed)
            if setrlimit(Self.resource, &raised) == 0 {
                raisedFrom = Int(limit.rlim_max)
                limit = raised
            }
        }
        return (max(Self.raiseLimit(), Int(min(limit.rlim_cur, rlim_t(Int32.max)))), raisedFrom)
    }

    /// Refuses a run that cannot fit in this process's descriptors.
    ///
    /// - Parameters:
    ///   - scenario: the run.
    ///   - shard: the slice this process runs, if any.
    ///   - splitting: how the refusal tells a user to split an unsharded run into `count` processes.
    /// - Throws: ``ScenarioError/beyondHarness(reason:)`` naming both numbers.
    package static func check(
        _ scenario: Scenario,
        shard: Shard? = nil,
        splitting: (_ count: Int) -> String = { "split the run (`squall run --shards \($0)`)" }
    ) throws(ScenarioError) {
        let needed = Self.needed(scenario, shard: shard)
        let limit = Self.raiseLimit()
        guard needed <= limit else {
            // The fewest shards (processes, each under its own limit) that fit, up to the 64 `--shards` allows.
            let shards = (2...64).first { count in
                Self.needed(scenario, shard: Shard(index: 0, count: (shard?.count ?? 1) * count)) <= limit
            }
            let advice =
                shard == nil
                ? shards.map { "Run fewer clients, \(splitting($0)), or raise the hard limit." }
                : nil
            throw .beyondHarness(
                reason:
                    "\(shard.map { "shard \($0) of " } ?? "")\(scenario.clientCount) clients need about \(needed) file descriptors in this process (6 per "
                    + "reference client at the peak of a reconnect storm, \(Self.reserve) spare), but the limit is \(limit) "
                    + "(`ulimit -n`). " + (advice ?? "Run fewer clients, use more shards, or raise the hard limit.")
            )
        }
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
