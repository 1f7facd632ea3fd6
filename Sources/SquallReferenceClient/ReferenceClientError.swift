/// Errors of the reference client's library calls (the client itself reports trouble as events, never throws).
public enum ReferenceClientError: Error, Hashable, CustomStringConvertible {
    /// `POST /api/jobs` did not create a job.
    case jobCreationFailed(server: ServerAddress, reason: String)

    /// A message naming the server and what went wrong.
    public var description: String {
        switch self {
        case .jobCreationFailed(let server, let reason):
            "could not create a job on \(server): \(reason) (is the server running and does it implement POST /api/jobs?)"
        }
    }
}
