import SquallFaults
import Testing

/// The pure decisions behind the faults, checked without sockets.
@Suite struct DecisionTests {
    @Test func tokenBucketSustainsItsRate() {
        var bucket = TokenBucket(bytesPerSecond: 1_000_000, burst: 0, now: 0)
        var now: Int64 = 0
        var sent = 0
        while now < 5_000_000_000 {
            switch bucket.take(wanted: 65_536, now: now) {
            case .send(let count): sent += count
            case .wait(let nanoseconds): now += nanoseconds
            case .paused:
                Issue.record("a positive rate never pauses")
                return
            }
        }
        // 5 s at 1 MB/s plus the initial 10 ms piece.
        #expect(abs(Double(sent) - 5_010_000) / 5_000_000 < 0.005)
    }

    @Test func tokenBucketBurstPassesAtOnceThenPaces() {
        var bucket = TokenBucket(bytesPerSecond: 1000, burst: 5000, now: 0)
        #expect(bucket.take(wanted: 4000, now: 0) == .send(4000))
        #expect(bucket.take(wanted: 4000, now: 0) == .send(1000))
        guard case .wait(let nanoseconds) = bucket.take(wanted: 10, now: 0) else {
            Issue.record("an empty bucket waits")
            return
        }
        #expect(nanoseconds == 10_000_000)
    }

    @Test func tokenBucketAtRateZeroPauses() {
        var bucket = TokenBucket(bytesPerSecond: 0, burst: 100, now: 0)
        #expect(bucket.take(wanted: 1, now: 1_000_000_000) == .paused)
        bucket.reconfigure(bytesPerSecond: 1000, burst: 0, now: 1_000_000_000)
        #expect(bucket.take(wanted: 1, now: 1_000_000_000) == .send(1))
    }

    @Test func slicesAverageTheirSizeAndAddUp() {
        var random = SeededRandom(seed: 9)
        let pieces = SlicePlan.pieces(length: 100_000, averageSize: 10, sizeVariation: 5, random: &random)
        #expect(pieces.reduce(0, +) == 100_000)
        #expect(pieces.allSatisfy { (1...15).contains($0) })
        let average = Double(100_000) / Double(pieces.count)
        #expect(abs(average - 10) < 0.5)
    }

    @Test func latencyJitterIsBoundedAndSeeded() {
        var first = SeededRandom(seed: 5, labels: ["a"])
        var second = SeededRandom(seed: 5, labels: ["a"])
        let one = (0..<100).map { _ in
            LatencyPlan.delayNanoseconds(delay: .milliseconds(50), jitter: .milliseconds(20), random: &first)
        }
        let two = (0..<100).map { _ in
            LatencyPlan.delayNanoseconds(delay: .milliseconds(50), jitter: .milliseconds(20), random: &second)
        }
        #expect(one == two)
        #expect(one.allSatisfy { (30_000_000...70_000_000).contains($0) })
        #expect(Set(one).count > 50)
    }

    @Test func toxicityDrawsAreStableAndMonotone() throws {
        let seeds = SeedTree(seed: 1)
        func hits(_ toxicity: Double) throws -> [Int] {
            let fault = try Fault(name: "f", type: .noop, toxicity: toxicity)
            return (1...1000).filter { fault.acts(onConnection: UInt64($0), origin: nil, proxy: "p", seeds: seeds) }
        }
        let low = try hits(0.3)
        let high = try hits(0.6)
        #expect(Set(low).isSubset(of: Set(high)), "raising toxicity only adds connections")
        #expect(abs(low.count - 300) < 60)
        #expect(abs(high.count - 600) < 60)
    }
}
