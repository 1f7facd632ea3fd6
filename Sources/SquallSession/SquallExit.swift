import SquallScenarios

/// Squall's exit codes, one meaning each (BSD `sysexits` where one fits), shared by every command.
package enum SquallExit: Int32, Sendable, CaseIterable {
    /// Everything worked; every gate passed.
    case success = 0
    /// Invalid input or usage (BSD `EX_USAGE`).
    case usage = 64
    /// `squall merge`: the shard logs given do not make one run (BSD `EX_DATAERR`).
    case shardsMismatched = 65
    /// An internal error (BSD `EX_SOFTWARE`).
    case internalError = 70
    /// No verdict on the system under test (BSD `EX_TEMPFAIL`): a gate failed only where the harness's overload may
    /// have caused it, or passed under heavy overload, or the run did not fit in this process's descriptors.
    case inconclusive = 75
    /// A gate failed: the system under test did something it must not.
    case gateFailed = 99
    /// Interrupted by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
    case interrupted = 130

    /// The exit code of one run's verdict.
    package static func of(_ verdict: RunVerdict) -> SquallExit {
        switch verdict {
        case .passed: .success
        case .failed: .gateFailed
        case .inconclusive: .inconclusive
        case .interrupted: .interrupted
        }
    }

    /// The exit code of several runs: interrupted before failed before inconclusive before passed — a definite
    /// failure of the app outranks a run that could not judge it.
    package static func of(_ verdicts: [RunVerdict]) -> SquallExit {
        for verdict in [RunVerdict.interrupted, .failed, .inconclusive] where verdicts.contains(verdict) {
            return Self.of(verdict)
        }
        return .success
    }
}
