/// How long the `latency` fault holds one chunk.
package enum LatencyPlan {
    /// The delay for one chunk: `delay` plus a uniform draw in `-jitter...jitter`, never below zero.
    ///
    /// - Parameters:
    ///   - delay: the base latency.
    ///   - jitter: the largest deviation.
    ///   - random: the generator for the deviation.
    /// - Returns: the delay in nanoseconds.
    package static func delayNanoseconds<Random: RandomNumberGenerator>(
        delay: Duration,
        jitter: Duration,
        random: inout Random
    ) -> Int64 {
        let base = delay.nanosecondCount
        let spread = jitter.nanosecondCount
        guard spread > 0 else { return base }
        return max(0, base + Int64.random(in: -spread...spread, using: &random))
    }
}
