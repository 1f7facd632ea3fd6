import ArgumentParser

/// `--seeds A..B`: the seeds a flaky-failure hunt runs, inclusive.
struct SeedRange: ExpressibleByArgument, Sendable {
    /// The most seeds one invocation runs.
    static let maximumCount: UInt64 = 10_000

    /// The seeds, in order.
    let seeds: ClosedRange<UInt64>

    init?(argument: String) {
        let bounds = argument.split(separator: ".", omittingEmptySubsequences: true)
        guard argument.contains(".."), bounds.count == 2, let low = UInt64(bounds[0]), let high = UInt64(bounds[1]),
            low <= high, high - low < Self.maximumCount, high <= 9_007_199_254_740_991
        else { return nil }
        self.seeds = low...high
    }
}
