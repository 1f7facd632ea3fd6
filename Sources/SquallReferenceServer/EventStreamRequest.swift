/// A request the server answers with an event stream: the job, and the client's `Last-Event-ID`.
struct EventStreamRequest: Sendable, Hashable {
    /// The job to stream.
    var jobId: String
    /// The `Last-Event-ID` header's value (nil: the request had none).
    var lastEventId: String?
}
