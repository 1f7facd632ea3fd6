import Foundation
import SquallFaults
import Synchronization

/// The one ordered event log of a run: client, server and run (fault, timeline) events as NDJSON lines, in the
/// order they happened.
///
/// Many tasks record at once; a `Mutex` keeps the order of arrival, and ``lines`` sorts by `time` (stable), so
/// the file reads in time order even when two sources stamped their events a few microseconds apart.
public final class EventLog: Sendable {
    private let entries = Mutex<[(time: Double, line: String)]>([])

    /// Creates an empty log.
    public init() {}

    /// Records a line whose `time` field is `time`.
    public func record(time: Double, line: String) {
        self.entries.withLock { $0.append((time, line)) }
    }

    /// Records a run event: `{"time":…,"source":"run","event":name, …fields}`.
    public func recordRun(_ name: String, _ fields: [(String, JSONValue)] = [], time: Double = EventLog.now()) {
        var text = "{\"time\":\(JSONValue.format((time * 1_000).rounded() / 1_000)),\"source\":\"run\",\"event\":\(JSONValue.quote(name))"
        for (key, value) in fields {
            text += ",\(JSONValue.quote(key)):\(value.jsonText)"
        }
        self.record(time: time, line: text + "}")
    }

    /// Every line, in time order.
    public var lines: [String] {
        self.entries.withLock { entries in
            entries.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element.line)
        }
    }

    /// The number of lines so far.
    public var count: Int {
        self.entries.withLock { $0.count }
    }

    /// Now, in milliseconds since the Unix epoch.
    public static func now() -> Double {
        Date().timeIntervalSince1970 * 1_000
    }
}
