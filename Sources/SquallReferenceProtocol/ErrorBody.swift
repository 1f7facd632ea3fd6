/// The JSON body of every error the job-progress server answers: `{"error": "unauthorized", "message": "…"}`.
///
/// `error` is a stable code a client can switch on; `message` says what to fix.
public struct ErrorBody: Codable, Sendable, Hashable {
    /// A stable code: `bad_request`, `unauthorized`, `not_found`, `method_not_allowed`, `upgrade_required`,
    /// `payload_too_large`, `service_unavailable`.
    public var error: String
    /// What went wrong, for a person.
    public var message: String

    /// Creates an error body.
    public init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}
