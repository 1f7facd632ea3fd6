import SquallFaults
import Testing

/// `tcp_loss`'s rule: no byte lost; a lost segment stalls the stream for a retransmission timeout of 200 ms,
/// doubling on each repeated loss of it (at most 120 s); after 15 retransmissions TCP gives up.
@Suite struct SegmentLossTests {
    @Test func noLossNeverStalls() {
        var loss = SegmentLoss(lossRate: 0, correlation: 0, segmentSize: 1448)
        var random = SeededRandom(seed: 1)
        for (index, size) in [1, 1448, 1449, 65_536].enumerated() {
            let arrival = Duration.seconds(index)
            #expect(
                loss.chunk(bytes: size, arrivedAt: arrival, using: &random) == .deliver(at: arrival, retransmissions: 0)
            )
        }
    }

    @Test func certainLossRetriesFifteenTimesWithDoublingTimeoutsThenGivesUp() {
        var loss = SegmentLoss(lossRate: 1, correlation: 0, segmentSize: 1448)
        var random = SeededRandom(seed: 1)
        // 0.2 + 0.4 + … + 102.4 s (10 timeouts), then 120 s six times: 16 losses before TCP gives up.
        let doubling = (0..<10).reduce(Duration.zero) { total, step in total + .milliseconds(200 << step) }
        let expected = doubling + .seconds(120) * 6
        #expect(loss.chunk(bytes: 10, arrivedAt: .seconds(1), using: &random) == .reset(at: .seconds(1) + expected))
    }

    @Test func eachSegmentIsDrawnAndARepeatedLossDoublesTheTimeout() {
        // Replay the draws with the same generator: the stall is 200 ms for a segment lost once, 600 ms for one lost
        // twice, and so on — summed over the chunk's segments. Chunks 10 s apart never wait for each other.
        var loss = SegmentLoss(lossRate: 0.4, correlation: 0.2, segmentSize: 100)
        var random = SeededRandom(seed: 5)
        var replay = ChunkLoss(lossRate: 0.4, correlation: 0.2)
        var replayRandom = SeededRandom(seed: 5)
        for (index, size) in [1, 100, 101, 250, 1_000].enumerated() {
            var expected = Duration.zero
            var retransmissions = 0
            for _ in 0..<((size + 99) / 100) {
                var timeout = Duration.milliseconds(200)
                while replay.dropsNext(using: &replayRandom) {
                    expected += timeout
                    retransmissions += 1
                    timeout *= 2
                }
            }
            let arrival = Duration.seconds(10 * index)
            let outcome = loss.chunk(bytes: size, arrivedAt: arrival, using: &random)
            #expect(outcome == .deliver(at: arrival + expected, retransmissions: retransmissions))
        }
    }

    @Test func stallsAddUpInStreamOrderAndNothingOvertakes() {
        var loss = SegmentLoss(lossRate: 0.2, correlation: 0, segmentSize: 1_000)
        var random = SeededRandom(seed: 3)
        var last = Duration.zero
        var total = Duration.zero
        for _ in 0..<200 {
            guard case .deliver(let time, _) = loss.chunk(bytes: 1_000, arrivedAt: .zero, using: &random) else {
                Issue.record("gave up")
                return
            }
            #expect(time >= last, "in order")
            total = time
            last = time
        }
        // All 200 chunks arrived at once: the last one is delivered after the sum of every stall. A segment lost
        // exactly k times (chance 0.2^k × 0.8) stalls 200 ms × (2^k − 1): 66.7 ms on average, 13.3 s for 200.
        #expect(total > .seconds(9) && total < .seconds(18), "\(total)")
    }

    @Test func theMeanStallIsTheLossRateTimesTheTimeoutForSmallRates() {
        // p = 1 %: a segment stalls 200 ms with chance p, 600 ms with p², …: the mean is about 2.04 ms a segment.
        var loss = SegmentLoss(lossRate: 0.01, correlation: 0, segmentSize: 1448)
        var random = SeededRandom(seed: 9)
        var total = Duration.zero
        for index in 0..<100_000 {
            let arrival = Duration.seconds(1_000 * index)
            if case .deliver(let time, _) = loss.chunk(bytes: 1448, arrivedAt: arrival, using: &random) {
                total += time - arrival
            }
        }
        let mean = total / 100_000
        #expect(mean > .microseconds(1_800) && mean < .microseconds(2_300), "\(mean)")
    }

    @Test func theFaultTakesItsAttributesAndDefaults() throws {
        let defaults = try Fault(type: .tcpLoss)
        #expect(defaults.effect == .tcpLoss(SegmentLoss(lossRate: 0.01, correlation: 0, segmentSize: 1448)))
        #expect(throws: FaultError.self) { try Fault(type: .tcpLoss, attributes: ["segment_size": 0]) }
        #expect(throws: FaultError.self) { try Fault(type: .tcpLoss, attributes: ["loss_rate": -1]) }
    }
}
