import Foundation
import SquallReferenceProtocol

/// Something the job-progress server did, reported so a run can compute lost and duplicate deliveries later:
/// every published message is one `published` event (job, seq, time).
public struct ReferenceServerEvent: Sendable, Hashable {
    /// When it happened, in milliseconds since the Unix epoch.
    public var time: Double
    /// The job concerned.
    public var jobId: String
    /// What happened.
    public var kind: Kind

    /// The kinds of server event.
    public enum Kind: Sendable, Hashable {
        /// `POST /api/jobs` created the job.
        case jobCreated(totalItems: Int, itemInterval: Duration)
        /// The job published message `seq` (pushed to every open stream and kept for polling).
        case published(seq: Int, type: ProgressMessage.MessageType)
        /// A client's WebSocket sent `ready` with `lastSeq`.
        case streamOpened(lastSeq: Int)
        /// A client's WebSocket ended.
        case streamClosed(reason: String)
        /// A client opened an event stream (`GET /sse/progress`), resuming after `lastSeq`; `lastEventId` is the
        /// `Last-Event-ID` it sent (nil: none).
        case eventStreamOpened(lastSeq: Int, lastEventId: String?)
        /// A client's event stream ended.
        case eventStreamClosed(reason: String)
        /// `GET /api/job-state` answered `messages` messages after `since`.
        case stateServed(since: Int, messages: Int)
        /// The finished job's retention ran out; it now answers 404.
        case jobExpired
    }

    /// Creates an event.
    public init(time: Double, jobId: String, kind: Kind) {
        self.time = time
        self.jobId = jobId
        self.kind = kind
    }

    /// The name of a publication event, which a run's metrics are computed against.
    public static let publishedName = "published"

    /// The event's name in NDJSON: `job_created`, `published`, `stream_opened`, `stream_closed`, `sse_opened`,
    /// `sse_closed`, `state_served`, `job_expired`.
    public var name: String {
        switch self.kind {
        case .jobCreated: "job_created"
        case .published: Self.publishedName
        case .streamOpened: "stream_opened"
        case .streamClosed: "stream_closed"
        case .eventStreamOpened: "sse_opened"
        case .eventStreamClosed: "sse_closed"
        case .stateServed: "state_served"
        case .jobExpired: "job_expired"
        }
    }

    /// The event as one NDJSON line (without the newline), keys in a fixed order:
    /// `{"time":1763900000123.456,"source":"server","event":"published","jobId":"…","seq":3,"type":"progress"}`.
    public var jsonLine: String {
        EventField.line(self.fields)
    }

    /// The line's fields, typed, in their order: `time`, `source`, `event`, `jobId`, then the event's own.
    package var fields: [(String, EventField)] {
        var fields: [(String, EventField)] = [
            ("time", .number(self.time)), ("source", .string("server")), ("event", .string(self.name)),
            ("jobId", .string(self.jobId)),
        ]
        switch self.kind {
        case .jobCreated(let totalItems, let itemInterval):
            fields += [
                ("totalItems", .integer(totalItems)), ("itemInterval", .string(IntervalText.format(itemInterval))),
            ]
        case .published(let seq, let type):
            fields += [("seq", .integer(seq)), ("type", .string(type.rawValue))]
        case .streamOpened(let lastSeq):
            fields += [("lastSeq", .integer(lastSeq))]
        case .streamClosed(let reason), .eventStreamClosed(let reason):
            fields += [("reason", .string(reason))]
        case .eventStreamOpened(let lastSeq, let lastEventId):
            fields += [("lastSeq", .integer(lastSeq))]
            if let lastEventId { fields += [("lastEventId", .string(lastEventId))] }
        case .stateServed(let since, let messages):
            fields += [("since", .integer(since)), ("messages", .integer(messages))]
        case .jobExpired:
            break
        }
        return fields
    }

    /// Now, in milliseconds since the Unix epoch.
    public static func now() -> Double {
        Date().timeIntervalSince1970 * 1_000
    }
}
