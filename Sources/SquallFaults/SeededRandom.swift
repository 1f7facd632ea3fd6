/// A small, fast, reproducible random number generator (SplitMix64).
///
/// Every random choice Squall makes (jitter, toxicity draws, slicer cut points, backoff jitter) comes from a
/// `SeededRandom` derived from the run seed and a label naming the subsystem and object, so the same seed yields the
/// same choices whatever order connections arrive in.
package struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    package init(seed: UInt64) {
        self.state = seed
    }

    /// Creates a generator for one purpose, derived from a run seed and labels such as `["toxicity", proxy, fault]`.
    ///
    /// - Parameters:
    ///   - seed: the run seed.
    ///   - labels: what the generator is for; different labels give independent streams.
    package init(seed: UInt64, labels: [String]) {
        var hash = SeededRandom.fnv1a(seed: seed, labels: labels)
        self.state = SeededRandom.mix(&hash)
    }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        SeededRandom.mix(&self.state)
    }

    /// A uniform draw in `0..<1` that depends only on the seed and the labels: the same inputs always give the same
    /// number.
    package static func unitDraw(seed: UInt64, labels: [String]) -> Double {
        var generator = SeededRandom(seed: seed, labels: labels)
        return Double(generator.next() >> 11) * 0x1.0p-53
    }

    private static func mix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    private static func fnv1a(seed: UInt64, labels: [String]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        for label in labels {
            for byte in label.utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
            hash = (hash ^ 0xFF) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
