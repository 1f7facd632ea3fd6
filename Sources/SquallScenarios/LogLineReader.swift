import CompressNIO
import Foundation
import NIOCore

/// A stored log's lines, read a chunk at a time: plain NDJSON, or gzip (told by its first two bytes) inflated as it
/// is read, so a compressed log is never whole in memory, nor on disk uncompressed.
package final class LogLineReader {
    private let path: String
    private let handle: FileHandle
    private let chunkSize: Int
    /// Inflates a gzip log; nil for a plain one (decided by the first chunk).
    private var inflater: ZlibDecompressor?
    private var decided = false
    /// Bytes read (inflated) and not yet handed out, from `start`.
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    /// The number of the line last handed out (1-based).
    package private(set) var lineNumber = 0

    /// Opens `path`, to read `chunkSize` bytes at a time.
    ///
    /// - Throws: ``ScenarioError/unreadable(path:reason:)``.
    package init(path: String, chunkSize: Int = EventLogReader.chunk) throws(ScenarioError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .unreadable(path: path, reason: "cannot open the file")
        }
        self.path = path
        self.handle = handle
        self.chunkSize = max(1, chunkSize)
    }

    deinit {
        try? self.handle.close()
    }

    /// Every line of `path` (plain or gzip), for a log small enough to hold: a real run's, a shard's.
    ///
    /// - Throws: as ``nextLine()``.
    package static func lines(of path: String) throws(ScenarioError) -> [String] {
        let reader = try LogLineReader(path: path)
        var lines: [String] = []
        while let (line, _) = try reader.nextLine() { lines.append(String(decoding: line, as: UTF8.self)) }
        return lines
    }

    /// The next line, without its newline, and whether a newline ended it (only a log's last line may lack one);
    /// nil after the last.
    ///
    /// - Throws: ``ScenarioError/unreadable(path:reason:)`` when the file cannot be read,
    ///   ``ScenarioError/invalidRecord(path:reason:)`` when a gzip log is corrupt.
    package func nextLine() throws(ScenarioError) -> (line: ArraySlice<UInt8>, terminated: Bool)? {
        while true {
            if let newline = self.buffer[self.start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = self.buffer[self.start..<newline]
                self.start = newline + 1
                self.lineNumber += 1
                return (line, true)
            }
            if self.atEnd {
                guard self.start < self.buffer.count else { return nil }
                let line = self.buffer[self.start...]
                self.start = self.buffer.count
                self.lineNumber += 1
                return (line, false)
            }
            self.buffer.removeFirst(self.start)
            self.start = 0
            try self.refill()
        }
    }

    /// Reads the next chunk, inflated when the log is gzip.
    private func refill() throws(ScenarioError) {
        let data: Data
        do {
            data = try self.handle.read(upToCount: self.chunkSize) ?? Data()
        } catch {
            throw .unreadable(path: self.path, reason: "\(error)")
        }
        if data.isEmpty {
            self.atEnd = true
            return
        }
        if !self.decided {
            self.decided = true
            if data.count >= 2, data[data.startIndex] == 0x1F, data[data.startIndex + 1] == 0x8B {
                do {
                    self.inflater = try ZlibDecompressor(algorithm: .gzip)
                } catch {
                    throw .unreadable(path: self.path, reason: "zlib could not start a stream: \(error)")
                }
            }
        }
        guard let inflater = self.inflater else {
            self.buffer += data
            return
        }
        var input = ByteBufferAllocator().buffer(capacity: data.count)
        input.writeBytes(data)
        var output = ByteBufferAllocator().buffer(capacity: max(1 << 16, data.count * 4))
        var justReset = false
        while input.readableBytes > 0 {
            output.clear()
            let unread = input.readableBytes
            do {
                try inflater.inflate(from: &input, to: &output)
                self.buffer += output.readableBytesView
                if input.readableBytes > 0 {
                    // The end of a gzip member with bytes after it: another member (logs concatenated) starts, or
                    // garbage, which the fresh stream refuses.
                    if input.readableBytes == unread && output.readableBytes == 0 && justReset {
                        throw CompressNIOError.corruptData
                    }
                    try inflater.reset()
                    justReset = true
                    continue
                }
                justReset = false
            } catch let error as CompressNIOError where error == .bufferOverflow {
                self.buffer += output.readableBytesView
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                // All of this chunk is in: the next one continues the stream.
                self.buffer += output.readableBytesView
                return
            } catch {
                throw .invalidRecord(
                    path: self.path,
                    reason: "not a readable gzip stream after line \(self.lineNumber): \(error)"
                )
            }
        }
    }
}
