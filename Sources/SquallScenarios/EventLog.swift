import Foundation
import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one event log of a run: client, server and run (fault, timeline, harness) events as NDJSON lines.
///
/// Many tasks record at once; recording only appends the line to a short in-memory queue under a `Mutex`, so it
/// never waits for the disk. With a file (``init(writingTo:)``), a writer thread of its own appends the queue to the
/// file at least every ``flushInterval`` — whole lines, one `write(2)` per batch — so a run that is killed leaves a
/// readable log up to its last fraction of a second and memory stays flat however long the run. Lines are in the
/// order they arrived; readers order them by `time` (``RunRecord`` does, stably).
///
/// A write that fails (a full disk) loses nothing: the bytes not written are kept and tried again first at the next
/// flush. If they are still unwritten when the log is closed, ``writeFailure`` says why, and the runner gives no
/// verdict on the incomplete log.
///
/// Without a file (tests) every line stays in memory.
package final class EventLog: Sendable {
    /// A line waiting to be written: its text, or a typed event the writer renders (off the recording thread).
    private enum Pending: Sendable {
        case line(String)
        case client(ClientEvent)
        case server(ReferenceServerEvent)

        var text: String {
            switch self {
            case .line(let line): line
            case .client(let event): event.jsonLine
            case .server(let event): event.jsonLine
            }
        }

        /// Appends the line's bytes to `bytes`.
        func write(into bytes: inout [UInt8]) {
            switch self {
            case .line(let line): bytes.append(contentsOf: line.utf8)
            case .client(let event): EventField.write(event.fields, into: &bytes)
            case .server(let event): EventField.write(event.fields, into: &bytes)
            }
        }
    }

    private struct Queue {
        var lines: [Pending] = []
        var recorded = 0
        var written = 0
    }

    /// How often the writer appends queued lines to the file.
    package static let flushInterval: Duration = .milliseconds(200)

    private let queue = Mutex(Queue())
    /// What only the writer touches: the file, and what a failed write left unwritten.
    private struct Writing {
        /// The file being written, or nil once closed (and always for an in-memory log).
        var descriptor: Int32?
        /// Bytes of whole lines a failed write did not get to the file, and how many lines they end.
        var unwritten: (bytes: [UInt8], lines: Int)?
        /// Why the last write failed, while bytes are unwritten.
        var failure: String?
        /// The queue's other buffer: the writer swaps it with the queue's, renders it, and empties it (keeping its
        /// capacity) for the next swap, so neither side allocates a batch's array again.
        var spare: [Pending] = []
        /// Where a batch is rendered, its capacity kept from one flush to the next.
        var rendered: [UInt8] = []
        /// Compresses each batch, for a gzip log.
        var gzip: GzipStreamWriter?
    }

    private let writing: Mutex<Writing>
    private let stopped = Atomic(false)
    /// The file's path, or nil for an in-memory log.
    package let path: String?

    /// Creates an in-memory log.
    package init() {
        self.path = nil
        self.writing = Mutex(Writing())
    }

    /// Creates a log streamed to `path` (created, or truncated), and starts its writer thread. A path ending in
    /// `.gz` is written as one gzip stream, each batch sync-flushed (the file inflates up to its last batch, as a
    /// plain one reads up to it) and the stream ended when the log closes.
    ///
    /// - Throws: ``ScenarioError/reportFailed(path:reason:)`` when the file cannot be created.
    package init(writingTo path: String) throws(ScenarioError) {
        let gzip = try path.hasSuffix(".gz") ? GzipStreamWriter() : nil
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .reportFailed(path: path, reason: String(cString: strerror(errno)))
        }
        self.path = path
        self.writing = Mutex(Writing(descriptor: descriptor, gzip: gzip))
        let interval = Self.flushInterval
        Thread.detachNewThread { [self] in
            while !self.stopped.load(ordering: .acquiring) {
                Thread.sleep(forTimeInterval: Double(interval.milliseconds) / 1_000)
                self.flush()
            }
        }
    }

    deinit {
        if let descriptor = self.writing.withLock({ $0.descriptor }) { closeFile(descriptor) }
    }

    /// Records a line whose `time` field is `time` (ms since the epoch).
    package func record(time: Double, line: String) {
        self.queue.withLock { queue in
            queue.lines.append(.line(line))
            queue.recorded += 1
        }
    }

    /// Records a client's event; the writer renders its line, so a simulation that records millions of events
    /// does not spend its own thread writing JSON.
    package func record(_ event: ClientEvent) {
        self.append(.client(event))
    }

    /// Records a server's event; the writer renders its line.
    package func record(_ event: ReferenceServerEvent) {
        self.append(.server(event))
    }

    private func append(_ pending: Pending) {
        self.queue.withLock { queue in
            queue.lines.append(pending)
            queue.recorded += 1
        }
    }

    /// Records one of the runner's events, typed: `{"time":…,"source":"run","event":name, …its fields}`.
    package func record(_ event: RunnerEvent, time: Double = EventLog.now()) {
        self.recordRun(event.name, event.fields, time: time)
    }

    private func recordRun(_ name: RunEventName, _ fields: [(String, JSONValue)], time: Double) {
        var text =
            "{\"time\":\(JSONValue.format((time * 1_000).rounded() / 1_000)),\"source\":\"run\",\"event\":\"\(name.rawValue)\""
        for (key, value) in fields {
            text += ",\(JSONValue.quote(key)):\(value.jsonText)"
        }
        self.record(time: time, line: text + "}")
    }

    /// Lines recorded but not yet on disk (0 for an in-memory log): the writer's backlog.
    package var backlog: Int {
        guard self.path != nil else { return 0 }
        return self.queue.withLock { $0.recorded - $0.written }
    }

    /// The number of lines recorded so far.
    package var count: Int {
        self.queue.withLock { $0.recorded }
    }

    /// An in-memory log's lines, in arrival order; empty for a log streamed to a file (read the file).
    package var lines: [String] {
        guard self.path == nil else { return [] }
        return self.queue.withLock { $0.lines }.map(\.text)
    }

    /// Appends every queued line to the file now (nothing for an in-memory log), after what an earlier failed write
    /// left.
    package func flush() {
        self.flush(finishing: false)
    }

    /// Appends every queued line to the file; `finishing` ends a gzip stream after them.
    private func flush(finishing: Bool) {
        guard self.path != nil else { return }
        self.writing.withLock { writing in
            guard let descriptor = writing.descriptor else { return }
            self.queue.withLock { queue in swap(&queue.lines, &writing.spare) }
            var rendered = writing.rendered
            writing.rendered = []
            rendered.removeAll(keepingCapacity: true)
            for pending in writing.spare {
                pending.write(into: &rendered)
                rendered.append(UInt8(ascii: "\n"))
            }
            let lines = (writing.unwritten?.lines ?? 0) + writing.spare.count
            // A burst's buffers (a simulation's last events) are let go rather than kept for a run's life.
            let keep = writing.spare.count < 65_536
            writing.spare.removeAll(keepingCapacity: keep)
            defer { writing.rendered = keep ? rendered : [] }
            var bytes = writing.unwritten?.bytes ?? []
            if let gzip = writing.gzip {
                if !rendered.isEmpty || finishing { bytes += gzip.compress(rendered, finish: finishing) }
            } else if bytes.isEmpty {
                bytes = rendered
            } else {
                bytes += rendered
            }
            guard !bytes.isEmpty else { return }
            let written = bytes.withUnsafeBytes { Self.writeAll(descriptor, $0) }
            switch written {
            case .success:
                writing.unwritten = nil
                writing.failure = nil
                self.queue.withLock { $0.written += lines }
            case .failure(let offset, let reason):
                writing.unwritten = (Array(bytes[offset...]), lines)
                writing.failure = reason
            }
        }
    }

    /// What one attempt to write a buffer did.
    private enum WriteResult {
        case success
        /// `write(2)` failed after `offset` bytes, for `reason`.
        case failure(offset: Int, reason: String)
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> WriteResult {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return .failure(offset: offset, reason: String(cString: strerror(errno)))
            }
            offset += written
        }
        return .success
    }

    /// Why lines recorded are not on disk, when the last attempt to write them failed (nil when every line recorded
    /// so far that reached the writer is on disk).
    package var writeFailure: String? {
        self.writing.withLock { $0.failure }
    }

    /// Flushes the last lines, closes the file and stops the writer. Later records are kept in memory only; lines a
    /// failed write left are lost then, and ``writeFailure`` says why.
    package func close() {
        self.stopped.store(true, ordering: .releasing)
        self.flush(finishing: true)
        self.writing.withLock { writing in
            if let open = writing.descriptor { closeFile(open) }
            writing.descriptor = nil
        }
    }

    /// Now, in milliseconds since the Unix epoch.
    package static func now() -> Double {
        Date().timeIntervalSince1970 * 1_000
    }
}

/// `close(2)`, out of reach of ``EventLog/close()``'s name.
private func closeFile(_ descriptor: Int32) {
    _ = close(descriptor)
}
