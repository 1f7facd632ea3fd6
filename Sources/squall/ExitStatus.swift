import ArgumentParser
import SquallScenarios

/// The exit codes Squall documents, shared by every command.
enum ExitStatus {
    /// Everything worked.
    static let success = ExitCode(0)
    /// Invalid input or usage (BSD `EX_USAGE`).
    static let usage = ExitCode(64)
    /// An internal error (BSD `EX_SOFTWARE`).
    static let internalError = ExitCode(70)
    /// `squall merge`: the shard logs given do not make one run (another scenario, a shard missing or twice).
    static let shardsMismatched = ExitCode(65)
    /// No verdict on the system under test: a gate failed while the harness was overloaded, or the run is beyond
    /// what this harness can carry (BSD `EX_TEMPFAIL`: try again with fewer clients, a release build, a larger
    /// `timeScale`).
    static let inconclusive = ExitCode(75)
    /// A resilience gate failed.
    static let gateFailed = ExitCode(99)
    /// Interrupted by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
    static let interrupted = ExitCode(130)

    /// The exit code of one run's verdict.
    static func of(_ verdict: RunVerdict) -> ExitCode {
        switch verdict {
        case .passed: Self.success
        case .failed: Self.gateFailed
        case .inconclusive: Self.inconclusive
        case .interrupted: Self.interrupted
        }
    }

    /// The exit code of several runs: interrupted before failed before inconclusive before passed — a definite
    /// failure of the app outranks a run that could not judge it.
    static func of(_ verdicts: [RunVerdict]) -> ExitCode {
        for verdict in [RunVerdict.interrupted, .failed, .inconclusive] where verdicts.contains(verdict) {
            return Self.of(verdict)
        }
        return Self.success
    }
}
