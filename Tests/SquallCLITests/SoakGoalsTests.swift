import SquallBenchmarks
import Testing

/// `squall bench soak`'s memory goals, judged on hand-made samples.
@Suite struct SoakGoalsTests {
    private static func samples(churned: Double?, idle: Double?) -> [SoakBenchmark.Sample] {
        var samples = [
            SoakBenchmark.Sample(phase: "after 2 000 warm-up connections", descriptors: 37, residentMB: 30, listed: 0)
        ]
        if let churned {
            samples.append(
                .init(phase: "after 100000 churned connections", descriptors: 37, residentMB: churned, listed: 0)
            )
        }
        if let idle {
            samples.append(
                .init(phase: "with 10000 idle connections open", descriptors: 20_037, residentMB: idle, listed: 10_000)
            )
        }
        return samples
    }

    @Test func goalsMetAndMissed() {
        let met = SoakBenchmark.memoryGoals(Self.samples(churned: 45, idle: 150), churn: 100_000, idle: 10_000)
        #expect(met.map(\.met) == [true, true], "\(met.map(\.text))")
        let churnLeak = SoakBenchmark.memoryGoals(Self.samples(churned: 50.1, idle: 100), churn: 100_000, idle: 10_000)
        #expect(churnLeak.map(\.met) == [false, true], "\(churnLeak.map(\.text))")
        let idleHeavy = SoakBenchmark.memoryGoals(Self.samples(churned: 30, idle: 150.1), churn: 100_000, idle: 10_000)
        #expect(idleHeavy.map(\.met) == [true, false], "\(idleHeavy.map(\.text))")
        // Scaled to --idle: 5 000 connections may take half the 120 MB over the warm-up.
        let half = SoakBenchmark.memoryGoals(Self.samples(churned: nil, idle: 91), churn: 0, idle: 5_000)
        #expect(half.map(\.met) == [false], "\(half.map(\.text))")
    }

    @Test func aPhaseWithoutItsSampleIsAGoalMissed() {
        let missing = SoakBenchmark.memoryGoals(Self.samples(churned: nil, idle: 40), churn: 100_000, idle: 10_000)
        #expect(missing.map(\.met) == [false, true])
        #expect(missing[0].text.contains("no sample after the churn"))
        let noWarmUp = SoakBenchmark.memoryGoals([], churn: 1, idle: 1)
        #expect(noWarmUp.map(\.met) == [false])
    }
}
