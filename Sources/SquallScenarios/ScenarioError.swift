import SquallFaults

/// Why a scenario could not be run (validation errors are ``FaultError``s naming the JSON path).
public enum ScenarioError: Error, Sendable, CustomStringConvertible {
    /// The scenario file is invalid.
    case invalid(file: String, FaultError)
    /// A file or folder could not be read.
    case unreadable(path: String, reason: String)
    /// A part of the system under test could not start (a port, the server, a proxy).
    case startFailed(part: String, reason: String)
    /// Reports could not be written.
    case reportFailed(path: String, reason: String)
    /// A stored log or report cannot be re-checked.
    case invalidRecord(path: String, reason: String)
    /// The event log is missing lines the harness could not write (a full disk): no verdict is given on it.
    case eventLogIncomplete(path: String, reason: String)
    /// The run needs more than this harness can give (sockets beyond the process's descriptor limit): no verdict
    /// on the system under test is possible, so nothing was run.
    case beyondHarness(reason: String)

    public var description: String {
        switch self {
        case .invalid(let file, let error): "\(file): \(error)"
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .startFailed(let part, let reason): "could not start \(part): \(reason)"
        case .reportFailed(let path, let reason): "could not write the report to \(path): \(reason)"
        case .invalidRecord(let path, let reason): "\(path): \(reason)"
        case .eventLogIncomplete(let path, let reason):
            "the event log \(path) is missing lines that could not be written (\(reason)); no verdict is given on an"
                + " incomplete log: free the disk and run again"
        case .beyondHarness(let reason): "beyond what this harness can carry: \(reason)"
        }
    }
}
