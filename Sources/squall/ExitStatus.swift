import ArgumentParser
import SquallScenarios
import SquallSession

/// The exit codes `squall` uses (``SquallExit``), as the argument parser's `ExitCode`.
enum ExitStatus {
    /// Everything worked.
    static let success = Self.code(.success)
    /// Invalid input or usage (BSD `EX_USAGE`).
    static let usage = Self.code(.usage)
    /// An internal error (BSD `EX_SOFTWARE`).
    static let internalError = Self.code(.internalError)
    /// `squall merge`: the shard logs given do not make one run (another scenario, a shard missing or twice).
    static let shardsMismatched = Self.code(.shardsMismatched)
    /// No verdict on the system under test (see ``SquallExit/inconclusive``).
    static let inconclusive = Self.code(.inconclusive)
    /// A resilience gate failed.
    static let gateFailed = Self.code(.gateFailed)
    /// Interrupted by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
    static let interrupted = Self.code(.interrupted)

    /// The `ExitCode` of a ``SquallExit``.
    static func code(_ exit: SquallExit) -> ExitCode {
        ExitCode(exit.rawValue)
    }

    /// The exit code of one run's verdict.
    static func of(_ verdict: RunVerdict) -> ExitCode {
        Self.code(SquallExit.of(verdict))
    }

    /// The exit code of several runs: interrupted before failed before inconclusive before passed.
    static func of(_ verdicts: [RunVerdict]) -> ExitCode {
        Self.code(SquallExit.of(verdicts))
    }

    /// Prints a session's failure after the command's name and returns its exit code, to throw.
    static func reporting(_ failure: SessionFailure, command: String) -> ExitCode {
        printError("\(command): \(failure.message)")
        return Self.code(failure.exit)
    }
}
