/// Squall's version, reported by `squall --version` and written into every report.
public enum SquallVersion {
    /// The current version.
    public static let current = "0.2.0"
}
