/// `packet_loss`'s rule, written once for the proxy and the simulator: whether the next chunk is dropped, as
/// Toxiproxy 2.13 defines it — with probability `lossRate`, or `min(1, lossRate + correlation)` right after a
/// dropped chunk (a simplified Gilbert–Elliott burst model).
///
/// A value with the state of one direction of one connection (whether the previous chunk was dropped); the
/// caller owns the seeded generator, so a connection's drops are the same on every run with the same seed.
package struct ChunkLoss: Sendable, Hashable {
    /// The chance a chunk is dropped, 0…1.
    package let lossRate: Double
    /// The extra chance a chunk is dropped right after a dropped one, 0…1.
    package let correlation: Double
    /// Whether the previous chunk was dropped.
    package private(set) var previousDropped = false

    /// A fresh state: no chunk dropped yet.
    package init(lossRate: Double, correlation: Double) {
        self.lossRate = lossRate
        self.correlation = correlation
    }

    /// Whether the next chunk is dropped; one draw from `random`.
    package mutating func dropsNext(using random: inout SeededRandom) -> Bool {
        let chance = self.previousDropped ? min(1, self.lossRate + self.correlation) : self.lossRate
        let drops = Double.random(in: 0..<1, using: &random) < chance
        self.previousDropped = drops
        return drops
    }
}
