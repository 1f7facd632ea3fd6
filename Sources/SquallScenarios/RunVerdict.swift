/// What a run's outcome means.
///
/// A gate that failed while the harness was overloaded (``HarnessHealth/overloaded``) does not make the run
/// `failed`: the failure may be the harness's own, so the run is `inconclusive` — the gates are still computed and
/// shown, and `squall run` exits with its own code (75), never 99.
public enum RunVerdict: String, Sendable, Hashable {
    /// Every gate passed.
    case passed
    /// A gate failed and the harness kept up: the system under test failed.
    case failed
    /// A gate failed while the harness lagged beyond its bound: no verdict on the system under test.
    case inconclusive
    /// The run was interrupted (SIGINT/SIGTERM) or its log ends early: metrics are partial.
    case interrupted

    /// The word reports use: `passed`, `FAILED`, `INCONCLUSIVE`, `INTERRUPTED`.
    public var label: String {
        switch self {
        case .passed: "passed"
        case .failed: "FAILED"
        case .inconclusive: "INCONCLUSIVE"
        case .interrupted: "INTERRUPTED"
        }
    }
}
