import SquallScenarios

/// What a session of scenarios came to: every outcome in order, the runs that did not pass, and the one exit code.
package struct SessionResults: Sendable {
    /// A run that did not pass, with what reproduces it.
    package struct FailingRun: Sendable, Hashable {
        /// The scenario file.
        package var file: String
        /// The scenario's name.
        package var name: String
        /// The seed it ran with.
        package var seed: UInt64
        /// Its report folder.
        package var folder: String
        /// `failed` or `inconclusive`.
        package var verdict: RunVerdict

        /// A run that did not pass.
        package init(file: String, name: String, seed: UInt64, folder: String, verdict: RunVerdict) {
            self.file = file
            self.name = name
            self.seed = seed
            self.folder = folder
            self.verdict = verdict
        }
    }

    /// Every scenario's outcome (and every seed's), in the order they ran.
    package var outcomes: [ScenarioOutcome] = []
    /// The runs that did not pass.
    package var failing: [FailingRun] = []

    /// An empty result.
    package init() {}

    /// The records of the runs that ran.
    package var records: [RunRecord] { self.outcomes.compactMap(\.record) }

    /// The session's exit code: the most serious of its verdicts (130, then 99, then 75, then 0), a refused
    /// scenario counting as inconclusive.
    package var exit: SquallExit {
        SquallExit.of(self.outcomes.map(\.verdict))
    }

    /// A shard's exit code: its gates see a slice of the clients and are judged on the merged run, so only an
    /// interruption (130) or a refusal (75) is its own.
    package var shardExit: SquallExit {
        if self.records.contains(where: \.interrupted) { return .interrupted }
        if self.outcomes.contains(where: { $0.record == nil }) { return .inconclusive }
        return .success
    }
}
