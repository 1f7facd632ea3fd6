/// `bandwidth`: paces bytes through a ``TokenBucket``, in pieces of at most 10 ms worth of rate; a rate of zero holds
/// everything (and the end of the stream behind it) until the fault changes or is lifted.
package struct BandwidthRule: Sendable {
    private var bucket: TokenBucket
    /// Bytes still to pass of each unit not wholly passed, oldest first.
    private var waiting: [Int] = []
    /// Whether the end of the stream waits behind them.
    private var endWaits = false
    /// Whether a wake-up is due (the bucket is refilling).
    private var sleeping = false

    /// The rule, its bucket full at `time`.
    package init(bytesPerSecond: Double, burst: Int, at time: Duration) {
        self.bucket = TokenBucket(bytesPerSecond: bytesPerSecond, burst: burst, now: time.nanosecondCount)
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(.bandwidth(let rate, let burst), let time):
            self.bucket.reconfigure(bytesPerSecond: rate, burst: burst, now: time.nanosecondCount)
            self.sleeping = false
            return self.pump(at: time)
        case .configured:
            return []
        case .unit(let unit, let time):
            self.waiting.append(unit.size)
            return self.sleeping ? [] : self.pump(at: time)
        case .end(let time):
            guard !self.waiting.isEmpty else { return [.passEnd(at: time)] }
            self.endWaits = true
            return []
        case .timer(let time):
            self.sleeping = false
            return self.pump(at: time)
        }
    }

    private mutating func pump(at time: Duration) -> [StreamDecision] {
        var decisions: [StreamDecision] = []
        while let head = self.waiting.first {
            guard head > 0 else {
                self.waiting.removeFirst()
                decisions.append(.pass(bytes: nil, at: time))
                continue
            }
            switch self.bucket.take(wanted: head, now: time.nanosecondCount) {
            case .send(let count):
                if count >= head {
                    self.waiting.removeFirst()
                    decisions.append(.pass(bytes: nil, at: time))
                } else {
                    self.waiting[0] -= count
                    decisions.append(.pass(bytes: count, at: time))
                }
            case .wait(let nanoseconds):
                self.sleeping = true
                decisions.append(.wake(at: time + .nanoseconds(nanoseconds)))
                return decisions
            case .paused:
                return decisions
            }
        }
        if self.endWaits {
            self.endWaits = false
            decisions.append(.passEnd(at: time))
        }
        return decisions
    }
}
