import SquallFaults
import Synchronization

/// Live counters of one proxy, updated as traffic flows (not only when a connection ends, as Toxiproxy does).
public final class ProxyMetrics: Sendable {
    /// Connections accepted since the proxy was created.
    public let connectionsAccepted = Counter()
    /// Connections currently open.
    public let connectionsActive = Counter()
    /// Connections fully closed.
    public let connectionsClosed = Counter()
    /// Connections whose server connect failed or timed out.
    public let connectFailures = Counter()
    /// Bytes read from clients (upstream direction).
    public let bytesUpstream = Counter()
    /// Bytes read from servers (downstream direction).
    public let bytesDownstream = Counter()
    /// Bytes written to servers (upstream direction, after faults).
    public let bytesSentUpstream = Counter()
    /// Bytes written to clients (downstream direction, after faults).
    public let bytesSentDownstream = Counter()
    private let applied: [FaultType: Counter]
    /// Connections each fault (by name) acted on, so a run can flag a fault that never hit anything.
    private let appliedByName = Mutex<[String: Int]>([:])

    /// Creates zeroed counters.
    public init() {
        var applied: [FaultType: Counter] = [:]
        for type in FaultType.allCases {
            applied[type] = Counter()
        }
        self.applied = applied
    }

    /// How many times a fault of `type` was applied to a connection (the toxicity draw chose it).
    public func faultsApplied(_ type: FaultType) -> Int {
        self.applied[type]!.value
    }

    /// Counts one application of a fault of `type`.
    /// Connections the fault named `name` has acted on since the proxy started.
    ///
    /// - Parameter name: a fault's name.
    /// - Returns: the count, 0 for a fault that never acted (or never existed).
    public func faultsApplied(named name: String) -> Int {
        self.appliedByName.withLock { $0[name] ?? 0 }
    }

    func recordApplied(_ fault: Fault) {
        self.applied[fault.type]!.add(1)
        self.appliedByName.withLock { $0[fault.name, default: 0] += 1 }
    }
}
