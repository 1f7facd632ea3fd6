/// Squall's version, reported by `squall --version`.
enum SquallVersion {
    /// The current version.
    static let current = "0.1.0"
}
