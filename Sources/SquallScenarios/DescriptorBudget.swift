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
/// Per client, in this process: a reference client's own socket (1), the proxy's two (2), the reference server's
/// (1); an external client's standard output and error pipes (2) instead of its socket; none for an external
/// server. Plus a tenth for reconnects that overlap the close of the old connection, plus ``reserve``.
enum DescriptorBudget {
    /// Descriptors kept for listeners, the log, pipes of servers, the runtime.
    static let reserve = 256

    /// The descriptors a scenario needs in this process.
    static func needed(_ scenario: Scenario) -> Int {
        let server = scenario.server.external == nil ? 1 : 0
        var perClients = 0
        for group in scenario.clients {
            perClients += group.count * (2 + server + (group.command == nil ? 1 : 2))
        }
        return perClients + perClients / 10 + Self.reserve
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

    /// Refuses a run that cannot fit in this process's descriptors.
    ///
    /// - Throws: ``ScenarioError/beyondHarness(reason:)`` naming both numbers.
    static func check(_ scenario: Scenario) throws(ScenarioError) {
        let needed = Self.needed(scenario)
        let limit = Self.raiseLimit()
        guard needed <= limit else {
            throw .beyondHarness(
                reason: "\(scenario.clientCount) clients need about \(needed) file descriptors in this process (4 per "
                    + "reference client, 10 % for overlapping reconnects, \(Self.reserve) spare), but the limit is \(limit) "
                    + "(`ulimit -n`). Run fewer clients, or raise the hard limit."
            )
        }
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
