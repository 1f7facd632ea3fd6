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

    /// `events` in stable time order: by time, and events of one time in the order given (as the log was written).
    static func inTimeOrder(_ events: [LoggedEvent]) -> [LoggedEvent] {
        events.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
    }
}
