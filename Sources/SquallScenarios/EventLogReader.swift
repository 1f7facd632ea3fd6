import Foundation
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
        events = events.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
            .map(\.element)
        state = initial
        for event in events { add(&state, event) }
        return Outcome(state: state, torn: tornAgain ?? false)
    }

    /// Decodes each line of `path` in file order and hands it to `body`, which returns false to stop; returns
    /// whether the last line was torn, or nil when `body` stopped.
    private static func forEachEvent(
        in path: String,
        chunkSize: Int,
        _ body: (LoggedEvent) -> Bool
    ) throws(ScenarioError) -> Bool? {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .unreadable(path: path, reason: "cannot open the file")
        }
        defer { try? handle.close() }
        var carried: [UInt8] = []
        var number = 0
        var failure: FaultError?
        /// Decodes one line; false stops the read (a bad line, or `body` said so).
        func decode(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
            number += 1
            guard !line.isEmpty else { return true }
            do throws(FaultError) {
                return body(LoggedEvent(try EventRecord(line: line)))
            } catch {
                failure = FaultError.inContext(subject: "line \(number)", error)
                return false
            }
        }
        while true {
            let data: Data
            do {
                data = try handle.read(upToCount: max(1, chunkSize)) ?? Data()
            } catch {
                throw .unreadable(path: path, reason: "\(error)")
            }
            if data.isEmpty { break }
            var stopped = false
            data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let bytes = raw.bindMemory(to: UInt8.self)
                var start = 0
                while let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    if carried.isEmpty {
                        if !decode(UnsafeBufferPointer(rebasing: bytes[start..<end])) {
                            stopped = true
                            return
                        }
                    } else {
                        carried.append(contentsOf: bytes[start..<end])
                        let line = carried
                        carried.removeAll(keepingCapacity: true)
                        if !(line.withUnsafeBufferPointer { decode($0) }) {
                            stopped = true
                            return
                        }
                    }
                    start = end + 1
                }
                carried.append(contentsOf: bytes[start...])
            }
            if let failure { throw .invalidRecord(path: path, reason: "\(failure)") }
            if stopped { return nil }
        }
        guard !carried.isEmpty else { return false }
        // A last line without its newline: whole when it decodes, else cut off by a kill (dropped, the log
        // incomplete).
        number += 1
        guard let record = try? EventRecord(line: carried) else { return true }
        return body(LoggedEvent(record)) ? false : nil
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
