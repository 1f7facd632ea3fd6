import SquallFaults
import Testing

/// `packet_loss`'s rule, as Toxiproxy 2.13 defines it: a chunk is dropped with `loss_rate`, or with
/// `loss_rate + correlation` (at most 1) right after a dropped one.
@Suite struct ChunkLossTests {
    private func drops(_ loss: ChunkLoss, count: Int, seed: UInt64 = 1) -> [Bool] {
        var loss = loss
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in loss.dropsNext(using: &random) }
    }

    @Test func noLossDropsNothingAndFullLossDropsEverything() {
        #expect(!self.drops(ChunkLoss(lossRate: 0, correlation: 0), count: 10_000).contains(true))
        #expect(!self.drops(ChunkLoss(lossRate: 1, correlation: 0), count: 10_000).contains(false))
        // Correlation alone drops nothing: it only adds to the chance after a drop.
        #expect(!self.drops(ChunkLoss(lossRate: 0, correlation: 1), count: 10_000).contains(true))
    }

    @Test func theRateIsTheChanceOfADrop() {
        let drops = self.drops(ChunkLoss(lossRate: 0.1, correlation: 0), count: 100_000)
        let rate = Double(drops.filter { $0 }.count) / Double(drops.count)
        #expect(rate > 0.095 && rate < 0.105, "\(rate)")
    }

    @Test func correlationMakesADropAfterADropLikelierAndNothingElse() {
        let drops = self.drops(ChunkLoss(lossRate: 0.1, correlation: 0.5), count: 200_000)
        let afterDrop = zip(drops, drops.dropFirst()).filter { $0.0 }.map(\.1)
        let afterPass = zip(drops, drops.dropFirst()).filter { !$0.0 }.map(\.1)
        let burst = Double(afterDrop.filter { $0 }.count) / Double(afterDrop.count)
        let fresh = Double(afterPass.filter { $0 }.count) / Double(afterPass.count)
        #expect(burst > 0.58 && burst < 0.62, "after a drop: \(burst) (0.1 + 0.5)")
        #expect(fresh > 0.09 && fresh < 0.11, "after a chunk that passed: \(fresh)")
        // The chance is capped at 1.
        let capped = self.drops(ChunkLoss(lossRate: 0.6, correlation: 0.6), count: 1_000)
        if let first = capped.firstIndex(of: true) {
            #expect(!capped[first...].contains(false), "1.2 is certainty: once dropped, always dropped")
        }
    }

    @Test func theSameSeedDropsTheSameChunks() {
        let loss = ChunkLoss(lossRate: 0.3, correlation: 0.2)
        #expect(self.drops(loss, count: 500, seed: 7) == self.drops(loss, count: 500, seed: 7))
        #expect(self.drops(loss, count: 500, seed: 7) != self.drops(loss, count: 500, seed: 8))
    }

    @Test func theFaultTakesToxiproxysAttributesAndDefaults() throws {
        let defaults = try Fault(type: .packetLoss)
        #expect(defaults.effect == .packetLoss(ChunkLoss(lossRate: 0.1, correlation: 0)))
        #expect(throws: FaultError.self) { try Fault(type: .packetLoss, attributes: ["loss_rate": 1.5]) }
        #expect(throws: FaultError.self) { try Fault(type: .packetLoss, attributes: ["correlation": -0.1]) }
        #expect(FaultType(rawValue: "packet_loss") == .packetLoss)
        #expect(FaultType.packetLoss.phase == .stream)
    }
}
