/// A token bucket that paces bytes at a fixed rate, the decision behind the `bandwidth` fault.
///
/// Tokens (bytes) accrue at `bytesPerSecond` up to a capacity of `max(burst, pieceSize)` plus one piece of slack;
/// the bucket starts with `max(burst, pieceSize)` tokens.
/// Data leaves in pieces of at most `pieceSize` (10 ms worth of rate) so the output is smooth rather than a burst
/// and a long silence. Because refills use the real elapsed time, timer lateness never accumulates into rate error.
/// A rate of zero is a pause: nothing passes until the rate changes.
package struct TokenBucket: Sendable, Hashable {
    /// What the caller should do with the data it holds.
    package enum Decision: Sendable, Hashable {
        /// Send this many bytes now.
        case send(Int)
        /// Wait this many nanoseconds, then ask again.
        case wait(nanoseconds: Int64)
        /// The rate is zero: hold everything until the rate changes.
        case paused
    }

    /// Sustained rate in bytes per second.
    public private(set) var bytesPerSecond: Double
    /// Extra bytes allowed at once after an idle spell.
    public private(set) var burst: Int
    private var tokens: Double
    private var lastRefill: Int64

    /// Creates a full bucket.
    ///
    /// - Parameters:
    ///   - bytesPerSecond: the sustained rate; 0 pauses.
    ///   - burst: the extra allowance in bytes.
    ///   - now: the current time in nanoseconds on a monotonic clock.
    package init(bytesPerSecond: Double, burst: Int, now: Int64) {
        self.bytesPerSecond = bytesPerSecond
        self.burst = burst
        self.tokens = 0
        self.lastRefill = now
        self.tokens = Double(max(burst, self.pieceSize))
    }

    /// The largest piece handed out at once: 10 ms worth of rate, between 1 byte and 64 KiB.
    package var pieceSize: Int {
        Int(min(65_536, max(1, (self.bytesPerSecond / 100).rounded(.down))))
    }

    /// The burst plus one piece of slack: a timer that fires late must not lose the tokens earned meanwhile, or
    /// every late wake-up would shave the rate.
    private var capacity: Double {
        Double(max(self.burst, self.pieceSize) + self.pieceSize)
    }

    /// Changes the rate and burst, keeping the tokens already earned (capped at the new capacity).
    package mutating func reconfigure(bytesPerSecond: Double, burst: Int, now: Int64) {
        self.refill(now: now)
        self.bytesPerSecond = bytesPerSecond
        self.burst = burst
        self.tokens = min(self.tokens, self.capacity)
    }

    /// Decides how much of `wanted` bytes may leave now.
    package mutating func take(wanted: Int, now: Int64) -> Decision {
        guard self.bytesPerSecond > 0 else { return .paused }
        self.refill(now: now)
        let needed = Double(min(wanted, self.pieceSize))
        if self.tokens >= needed {
            let amount = min(wanted, max(Int(needed), Int(self.tokens.rounded(.down))))
            self.tokens -= Double(amount)
            return .send(amount)
        }
        let missing = needed - self.tokens
        return .wait(nanoseconds: max(1, Int64((missing / self.bytesPerSecond * 1e9).rounded(.up))))
    }

    private mutating func refill(now: Int64) {
        let elapsed = Double(max(0, now - self.lastRefill)) / 1e9
        self.lastRefill = now
        self.tokens = min(self.capacity, self.tokens + elapsed * self.bytesPerSecond)
    }
}
