import ArgumentParser

/// The exit codes Squall documents, shared by every command.
enum ExitStatus {
    /// Everything worked.
    static let success = ExitCode(0)
    /// Invalid input or usage (BSD `EX_USAGE`).
    static let usage = ExitCode(64)
    /// An internal error (BSD `EX_SOFTWARE`).
    static let internalError = ExitCode(70)
}
