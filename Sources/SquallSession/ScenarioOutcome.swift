import SquallScenarios

/// What became of one scenario in a session: it ran (its record and report folder), or it was refused before
/// anything started because this process cannot hold it — a verdict too (inconclusive), never the end of the session.
package enum ScenarioOutcome: Sendable {
    /// It ran; its report folder was written.
    case ran(RunRecord, folder: String)
    /// It was refused up front: its name and why (the descriptors it needs, what fits, the shards that would).
    case refused(scenario: String, reason: String)

    /// The verdict it counts as: the run's, or inconclusive for a refused scenario.
    package var verdict: RunVerdict {
        switch self {
        case .ran(let record, _): record.verdict
        case .refused: .inconclusive
        }
    }

    /// The record, when it ran.
    package var record: RunRecord? {
        switch self {
        case .ran(let record, _): record
        case .refused: nil
        }
    }
}
