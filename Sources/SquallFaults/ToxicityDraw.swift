/// Decides, once per connection and fault, whether the fault acts on that connection.
///
/// The draw is a pure function of the run seed, the proxy, the fault's name and the connection's serial number, so
/// it never changes when other faults are added or removed (unlike Toxiproxy, which re-rolls), and two runs with the
/// same seed hit the same connections. Raising a fault's toxicity only adds connections: the draw is compared with
/// the threshold, not redrawn.
package enum ToxicityDraw {
    /// The uniform number in `0..<1` drawn for this connection and fault.
    package static func value(seed: UInt64, proxy: String, fault: String, connection: UInt64) -> Double {
        SeededRandom.unitDraw(seed: seed, labels: ["toxicity", proxy, fault, String(connection)])
    }

    /// Whether a fault of `toxicity` acts on this connection.
    package static func applies(
        toxicity: Double,
        seed: UInt64,
        proxy: String,
        fault: String,
        connection: UInt64
    ) -> Bool {
        if toxicity >= 1 { return true }
        if toxicity <= 0 { return false }
        return self.value(seed: seed, proxy: proxy, fault: fault, connection: connection) < toxicity
    }
}
