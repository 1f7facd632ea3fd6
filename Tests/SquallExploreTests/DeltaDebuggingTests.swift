import Testing

@testable import SquallExplore

/// ddmin on hand-made predicates whose minimal answers are known.
@Suite struct DeltaDebuggingTests {
    /// Runs ddmin, counting the predicate's calls and the distinct subsets it saw.
    private func minimize(
        _ elements: [Int],
        allowEmpty: Bool = true,
        _ fails: @escaping ([Int]) -> Bool
    ) -> (result: [Int], calls: Int, distinct: Int) {
        var calls = 0
        var seen = Set<[Int]>()
        let result = DeltaDebugging.minimize(elements, allowEmpty: allowEmpty) { subset in
            calls += 1
            seen.insert(subset)
            return fails(subset)
        }
        return (result, calls, seen.count)
    }

    @Test func findsTheOneElementThatFails() {
        let run = self.minimize(Array(0..<100)) { $0.contains(42) }
        #expect(run.result == [42])
        // Logarithmic, not a hundred tries: halves first.
        #expect(run.calls < 30)
    }

    @Test func findsTwoElementsThatFailOnlyTogether() {
        let run = self.minimize(Array(0..<64)) { $0.contains(3) && $0.contains(50) }
        #expect(run.result == [3, 50])
    }

    @Test func findsAnInteractionOfThreeKeepingTheOrder() {
        let run = self.minimize(Array(0..<40)) { Set([5, 17, 33]).isSubset(of: $0) }
        #expect(run.result == [5, 17, 33])
    }

    @Test func theEmptyListWhenTheFailureNeedsNothing() {
        #expect(self.minimize(Array(0..<10)) { _ in true }.result == [])
        // Unless the empty list is not allowed: one element is as small as it gets.
        #expect(self.minimize(Array(0..<10), allowEmpty: false) { _ in true }.result.count == 1)
    }

    @Test func aSizeThresholdGivesAOneMinimalAnswer() {
        // Fails with at least three elements: any three will do, and none of them can go.
        let run = self.minimize(Array(0..<20)) { $0.count >= 3 }
        #expect(run.result.count == 3)
        for index in run.result.indices {
            var smaller = run.result
            smaller.remove(at: index)
            #expect(smaller.count < 3)
        }
    }

    @Test func everySubsetIsTriedOnce() {
        let run = self.minimize(Array(0..<32)) { $0.contains(7) && $0.contains(8) && $0.contains(30) }
        #expect(run.result == [7, 8, 30])
        #expect(run.calls == run.distinct)
    }

    @Test func aPredicateThatNeverFailsKeepsEverything() {
        // The caller's list failed; if no subset does, ddmin keeps it all.
        #expect(self.minimize(Array(0..<6)) { $0.count == 6 }.result == Array(0..<6))
    }
}
