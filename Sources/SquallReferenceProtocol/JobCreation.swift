/// The body of `POST /api/jobs` and its answer.
///
/// Request: `{"totalItems": 20, "itemInterval": "250ms"}` (both optional; `failAfterItems` makes the job end with an
/// `error` message at that item). Answer (201): `{"jobId": "…", "token": "…"}`.
public struct JobCreation: Sendable, Hashable {
    /// Items in the job: the job publishes this many messages, the last one `complete`.
    public var totalItems: Int
    /// Time between two items.
    public var itemInterval: Duration
    /// When set, the job fails at this item: that message is `error` and the job ends.
    public var failAfterItems: Int?

    /// Creates a job request.
    public init(totalItems: Int = 20, itemInterval: Duration = .milliseconds(250), failAfterItems: Int? = nil) {
        self.totalItems = totalItems
        self.itemInterval = itemInterval
        self.failAfterItems = failAfterItems
    }

    /// The answer to a job creation.
    public struct Created: Codable, Sendable, Hashable {
        /// The new job.
        public var jobId: String
        /// The bearer token for that job's stream and state.
        public var token: String

        /// Creates an answer.
        public init(jobId: String, token: String) {
            self.jobId = jobId
            self.token = token
        }
    }
}
