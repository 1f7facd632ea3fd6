import ArgumentParser

/// The exit codes Squall documents, shared by every command.
enum ExitStatus {
    /// Everything worked.
    static let success = ExitCode(0)
    /// Invalid input or usage (BSD `EX_USAGE`).
    static let usage = ExitCode(64)
    /// An internal error (BSD `EX_SOFTWARE`).
    static let internalError = ExitCode(70)
    /// A resilience gate failed.
    static let gateFailed = ExitCode(99)
    /// Interrupted by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
    static let interrupted = ExitCode(130)
}
