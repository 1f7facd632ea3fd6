/// The answer of `GET /api/job-state/{jobId}?since=N`: the job's status and every message after `since`. It is the
/// polling endpoint and the state sync after a reconnect.
public struct JobState: Codable, Sendable, Hashable {
    /// The job.
    public var jobId: String
    /// Where the job is.
    public var status: Status
    /// Items done so far.
    public var processedItems: Int
    /// Items in the job.
    public var totalItems: Int
    /// The newest `seq` published.
    public var lastSeq: Int
    /// Every message with `seq > since`, in order.
    public var messages: [ProgressMessage]

    /// A job's status.
    public enum Status: String, Codable, Sendable, Hashable {
        /// Still producing messages.
        case running
        /// Finished; its last message is `complete`.
        case completed
        /// Failed; its last message is `error`.
        case failed
    }

    /// Creates a job state.
    public init(
        jobId: String,
        status: Status,
        processedItems: Int,
        totalItems: Int,
        lastSeq: Int,
        messages: [ProgressMessage]
    ) {
        self.jobId = jobId
        self.status = status
        self.processedItems = processedItems
        self.totalItems = totalItems
        self.lastSeq = lastSeq
        self.messages = messages
    }
}
