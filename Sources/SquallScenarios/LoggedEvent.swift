import SquallReferenceClient

/// One line of a run's log as the metrics and reports read it: when, and what, typed — about a fifth of the memory
/// of the line's ``EventRecord``, which a run of millions of events would otherwise hold.
public struct LoggedEvent: Sendable, Hashable {
    /// Milliseconds since the Unix epoch (virtual milliseconds in a simulation).
    public var time: Double
    /// What happened.
    public var event: RunEvent

    /// An event at `time`.
    public init(time: Double, event: RunEvent) {
        self.time = time
        self.event = event
    }

    /// A line read back, decoded.
    public init(_ record: EventRecord) {
        self.init(time: record.time, event: RunEvent(record))
    }

    /// The runner's event, when it is one.
    public var runnerEvent: RunnerEvent? {
        if case .run(let event) = self.event { return event }
        return nil
    }

    /// The client's event, when it is one.
    public var clientEvent: ClientEvent? {
        if case .client(let event) = self.event { return event }
        return nil
    }

    /// Calls `body` with each run of events sharing one time (an instant), in order: the unit the metrics read a log
    /// in, since what happens at an instant (a fault lifted, a step begun) counts before the events logged at it.
    static func forEachInstant(of events: [LoggedEvent], _ body: (ArraySlice<LoggedEvent>) -> Void) {
        var start = events.startIndex
        while start < events.endIndex {
            let time = events[start].time
            var end = start + 1
            while end < events.endIndex, events[end].time == time { end += 1 }
            body(events[start..<end])
            start = end
        }
    }
}
