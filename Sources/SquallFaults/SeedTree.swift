/// Every random choice of a run, derived from the run seed along one tree, so each is spelled once and no two
/// subsystems share a stream.
///
/// ```
/// seed
/// ├── client <id>                               → the client's backoff-jitter seed
/// ├── timeline <entry> <repetition>             → which clients a timeline entry picks (suspend, targeted faults)
/// ├── toxicity <proxy> <fault> <connection key> → whether a fault acts on a connection
/// └── <proxy> <connection key> <direction> <fault> → that fault's jitter, slicing and request picks
/// ```
///
/// A connection's key is the client's identity and the connection's ordinal among that client's connections
/// (`web-3#2`) when the proxy knows which client opened it — as it does for the reference clients of a scenario —
/// and its serial number within the proxy otherwise. Keys are stable across runs; serials follow accept order, which
/// timing changes.
public struct SeedTree: Sendable, Hashable {
    /// The seed every command and API uses when none is given.
    public static let defaultSeed: UInt64 = 1

    /// The run seed at the root.
    public let seed: UInt64

    /// Creates the tree of a run seed.
    public init(seed: UInt64 = SeedTree.defaultSeed) {
        self.seed = seed
    }

    /// The backoff-jitter seed of client `id` (`group-n`).
    public func clientSeed(_ id: String) -> UInt64 {
        var random = SeededRandom(seed: self.seed, labels: ["client", id])
        return random.next()
    }

    /// The generator for the clients a timeline entry picks on one of its repetitions (1-based).
    package func timelinePick(entry: Int, repetition: Int) -> SeededRandom {
        SeededRandom(seed: self.seed, labels: ["timeline", String(entry), String(repetition)])
    }

    /// The uniform number in `0..<1` drawn for a fault on one connection; the fault acts when it is below the
    /// toxicity.
    ///
    /// - Parameters:
    ///   - proxy: the proxy's name.
    ///   - fault: the fault's name.
    ///   - connection: the connection's key (client identity and ordinal, or serial number).
    package func toxicityDraw(proxy: String, fault: String, connection: String) -> Double {
        SeededRandom.unitDraw(seed: self.seed, labels: ["toxicity", proxy, fault, connection])
    }

    /// The generator for one fault's choices (jitter, slicing, request picks) on one direction of one connection.
    ///
    /// - Parameter connection: the connection's key (client identity and ordinal, or serial number).
    package func stream(proxy: String, connection: String, direction: FaultDirection, fault: String) -> SeededRandom {
        SeededRandom(seed: self.seed, labels: [proxy, connection, direction.rawValue, fault])
    }
}
