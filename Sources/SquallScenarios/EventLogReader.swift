import SquallFaults

/// Reads a stored `events.ndjson` a chunk at a time and hands its events on in time order, holding neither the file
/// nor its events: a simulation's log is written in time order, and a real run's is a few milliseconds out of it
/// (events are stamped where they happen and written as they arrive), which a window of ``window`` events puts
/// right. A log more out of order than that is read again whole and sorted, so the order is always the log's stable
/// time order.
package enum EventLogReader {
    /// How many events the reader holds back to put them in time order.
    package static let window = 65_536
    /// How many bytes it reads at a time.
    package static let chunk = 4 << 20

    /// The outcome of a read.
    package struct Outcome<State> {
        /// What the events were folded into.
        package var state: State
        /// Whether the last line was cut off by a kill (no newline after it, not valid JSON): it was dropped.
        package var torn: Bool
    }

    /// Folds the events of `path`, in time order, into `initial`, holding back up to `window` events and reading
    /// `chunkSize` bytes at a time.
    ///
    /// - Throws: ``ScenarioError/unreadable(path:reason:)``, or ``ScenarioError/invalidRecord(path:reason:)`` naming
    ///   the bad line.
    package static func fold<State>(
        _ path: String,
        into initial: State,
        window: Int = EventLogReader.window,
        chunkSize: Int = EventLogReader.chunk,
        _ add: (inout State, LoggedEvent) -> Void
    ) throws(ScenarioError) -> Outcome<State> {
        var state = initial
        var buffer = TimeOrderBuffer(capacity: window)
        let torn = try Self.forEachEvent(in: path, chunkSize: chunkSize) { event in
            guard buffer.insert(event) else { return false }
            while let next = buffer.overflow() { add(&state, next) }
            return true
        }
        if let torn {
            while let next = buffer.next() { add(&state, next) }
            return Outcome(state: state, torn: torn)
        }
        // Too far out of order for the window: read whole, sort (stable), fold.
        var events: [LoggedEvent] = []
        let tornAgain = try Self.forEachEvent(in: path, chunkSize: chunkSize) { event in
            events.append(event)
            return true
        }
        events = LoggedEvent.inTimeOrder(events)
        state = initial
        for event in events { add(&state, event) }
        return Outcome(state: state, torn: tornAgain ?? false)
    }

    /// Decodes each line of `path` (plain or gzip) in file order and hands it to `body`, which returns false to
    /// stop; returns whether the last line was torn, or nil when `body` stopped.
    private static func forEachEvent(
        in path: String,
        chunkSize: Int,
        _ body: (LoggedEvent) -> Bool
    ) throws(ScenarioError) -> Bool? {
        let lines = try LogLineReader(path: path, chunkSize: chunkSize)
        while let (line, terminated) = try lines.nextLine() {
            guard !line.isEmpty else { continue }
            let record: EventRecord
            do throws(FaultError) {
                record = try line.withUnsafeBufferPointer { bytes throws(FaultError) in try EventRecord(line: bytes) }
            } catch {
                // A last line without its newline that is not JSON was cut off by a kill: dropped, the log
                // incomplete.
                if !terminated { return true }
                throw .invalidRecord(
                    path: path,
                    reason: "\(FaultError.inContext(subject: "line \(lines.lineNumber)", error))"
                )
            }
            if !body(LoggedEvent(record)) { return nil }
        }
        return false
    }
}

/// Events held back until they can be handed on in stable time order: a sorted window, appended to at its end in
/// the usual case (a log nearly in order).
struct TimeOrderBuffer {
    private var held: [LoggedEvent] = []
    private var head = 0
    private let capacity: Int
    /// The time of the last event handed on.
    private var released = -Double.infinity

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Holds `event` in its place (after any of the same time); false when an event of a later time was already
    /// handed on.
    mutating func insert(_ event: LoggedEvent) -> Bool {
        guard event.time >= self.released else { return false }
        if self.head == self.held.count || self.held[self.held.count - 1].time <= event.time {
            self.held.append(event)
            return true
        }
        var low = self.head
        var high = self.held.count
        while low < high {
            let middle = (low + high) / 2
            if self.held[middle].time <= event.time { low = middle + 1 } else { high = middle }
        }
        self.held.insert(event, at: low)
        return true
    }

    /// The earliest event, when more than the capacity are held.
    mutating func overflow() -> LoggedEvent? {
        self.held.count - self.head > self.capacity ? self.next() : nil
    }

    /// The earliest event held, if any.
    mutating func next() -> LoggedEvent? {
        guard self.head < self.held.count else { return nil }
        let event = self.held[self.head]
        self.head += 1
        self.released = event.time
        if self.head >= self.capacity {
            self.held.removeFirst(self.head)
            self.head = 0
        }
        return event
    }
}
