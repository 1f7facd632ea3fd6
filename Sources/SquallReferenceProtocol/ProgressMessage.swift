import Foundation

/// A message the job-progress server pushes over WebSocket and returns from the job-state endpoint, in seed 001's
/// format plus a per-job monotonic `seq`.
///
/// ```json
/// {"type": "progress", "jobId": "…", "seq": 3, "timestamp": 1697654321000,
///  "data": {"progress": 0.45, "processedItems": 45, "totalItems": 100, "currentStatus": "Processing item 45"}}
/// ```
public struct ProgressMessage: Codable, Sendable, Hashable {
    /// `progress` while the job runs, `complete` for its last message, `error` when it failed.
    public var type: MessageType
    /// The job this message belongs to.
    public var jobId: String
    /// 1 for the job's first message, then +1 for each: lets clients detect gaps and duplicates.
    public var seq: Int
    /// When the server published the message, in milliseconds since the Unix epoch.
    public var timestamp: Int64
    /// The progress payload.
    public var data: ProgressData

    /// The kinds of progress message.
    public enum MessageType: String, Codable, Sendable, Hashable {
        /// An update while the job runs.
        case progress
        /// The job's last message: it finished.
        case complete
        /// The job's last message: it failed.
        case error
    }

    /// Creates a message.
    public init(type: MessageType, jobId: String, seq: Int, timestamp: Int64, data: ProgressData) {
        self.type = type
        self.jobId = jobId
        self.seq = seq
        self.timestamp = timestamp
        self.data = data
    }

    /// Whether this message ends the job.
    public var isFinal: Bool {
        self.type != .progress
    }
}

/// The payload of a ``ProgressMessage`` (seed 001's `ProgressData`).
public struct ProgressData: Codable, Sendable, Hashable {
    /// 0.0 to 1.0.
    public var progress: Double
    /// Items done so far.
    public var processedItems: Int
    /// Items in the job.
    public var totalItems: Int
    /// A human-readable status line.
    public var currentStatus: String

    /// Creates a payload.
    public init(progress: Double, processedItems: Int, totalItems: Int, currentStatus: String) {
        self.progress = progress
        self.processedItems = processedItems
        self.totalItems = totalItems
        self.currentStatus = currentStatus
    }
}
