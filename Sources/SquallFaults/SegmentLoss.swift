/// `tcp_loss`'s rule, written once for the proxy and the simulator: packet loss as TCP experiences it. No byte is
/// lost; each segment of `segmentSize` bytes is lost with ``ChunkLoss``'s Gilbert–Elliott draw, and a lost
/// segment is sent again after a retransmission timeout — 200 ms (Linux's minimum RTO) the first time, doubling on
/// each repeated loss of the same segment up to 120 s (`TCP_RTO_MAX`). After 15 retransmissions of one segment
/// (`tcp_retries2`) TCP gives up and the connection is reset.
///
/// The stream behind a lost segment waits for it (head-of-line blocking) and stalls add up in stream order, so
/// throughput falls as a lossy link's does. A value with the state of one direction of one connection; the caller owns the seeded generator.
package struct SegmentLoss: Sendable, Hashable {
    /// The first retransmission timeout: Linux's `TCP_RTO_MIN`.
    package static let initialTimeout = Duration.milliseconds(200)
    /// The longest retransmission timeout: Linux's `TCP_RTO_MAX`.
    package static let maximumTimeout = Duration.seconds(120)
    /// Retransmissions of one segment before the connection is reset: Linux's default `tcp_retries2`.
    package static let maximumRetransmissions = 15

    /// What the loss does to a chunk.
    package enum Outcome: Sendable, Hashable {
        /// It arrives whole at `time` (its arrival when nothing before it waits and none of its segments was lost).
        case deliver(at: Duration, retransmissions: Int)
        /// A segment was lost more than ``maximumRetransmissions`` times: the connection is reset at `time`.
        case reset(at: Duration)
    }

    /// The bytes in one segment (the MSS).
    package let segmentSize: Int
    /// Which segments are lost: the same draw as `packet_loss`.
    package private(set) var loss: ChunkLoss
    /// When the last chunk is delivered: a chunk never overtakes it, and a stall starts from it.
    package private(set) var deliveredUntil = Duration.zero

    /// A fresh state.
    package init(lossRate: Double, correlation: Double, segmentSize: Int) {
        self.loss = ChunkLoss(lossRate: lossRate, correlation: correlation)
        self.segmentSize = max(1, segmentSize)
    }

    /// What the loss does to a chunk of `bytes` bytes that arrived at `time` (on the caller's clock): one draw per
    /// transmission of each of its segments. Stalls add up in stream order — the sender retransmits a lost segment
    /// before anything behind it is delivered — so a bulk transfer slows by the sum of its stalls.
    package mutating func chunk(bytes: Int, arrivedAt time: Duration, using random: inout SeededRandom) -> Outcome {
        var stall = Duration.zero
        var retransmissions = 0
        let segments = max(1, (bytes + self.segmentSize - 1) / self.segmentSize)
        let start = max(time, self.deliveredUntil)
        for _ in 0..<segments {
            var timeout = Self.initialTimeout
            var attempts = 0
            while self.loss.dropsNext(using: &random) {
                stall += timeout
                attempts += 1
                retransmissions += 1
                guard attempts <= Self.maximumRetransmissions else { return .reset(at: start + stall) }
                timeout = min(timeout * 2, Self.maximumTimeout)
            }
        }
        self.deliveredUntil = start + stall
        return .deliver(at: start + stall, retransmissions: retransmissions)
    }
}
