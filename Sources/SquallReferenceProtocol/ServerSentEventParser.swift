/// Reads a `text/event-stream` as the WHATWG HTML standard says a browser does ("Interpreting an event stream"),
/// from bytes fed in whatever pieces they arrive: a leading byte order mark is skipped; lines end in CRLF, LF or
/// CR (also when the CR and LF come in different pieces); `:` lines are comments; `data:` lines join with line
/// feeds; a blank line ends a block and dispatches its event (none when it had no data); `id:` sets the last event
/// id (unless it holds a NUL); `retry:` sets the reconnection time when it is all digits; other fields are ignored;
/// an unfinished block at the end of the stream is dropped.
///
/// A value with no I/O: the proxy's stream inspection cuts a response into blocks with it, the reference client
/// reads its events with it, and the simulator uses the same rules. Each ``Block`` says how many bytes it took, so
/// the proxy can forward each one as a unit of its own.
package struct ServerSentEventParser: Sendable {
    /// One block of the stream: everything up to and including the blank line that ended it.
    package struct Block: Sendable, Hashable {
        /// The event the block dispatched; nil for a block without data (a comment, a `retry:`, an `id:` alone).
        package var event: ServerSentEvent?
        /// The bytes the block took on the stream, its blank line included (a byte order mark counts with the
        /// first block; the LF of a CRLF that arrives in a later piece than its CR counts with the block after).
        package var byteCount: Int
        /// The reconnection time it set, in milliseconds.
        package var retry: Int?
        /// Whether it held a comment line (a keep-alive).
        package var hasComment: Bool
        /// The last event id in force after it.
        package var lastEventId: String
    }

    /// A block grew past the parser's limit without ending: the stream is not one to read block by block.
    package struct BlockTooLarge: Error, Sendable, Hashable, CustomStringConvertible {
        /// The limit, in bytes.
        package var limit: Int

        /// The failure for a parser limited to `limit` bytes a block.
        package init(limit: Int) {
            self.limit = limit
        }

        package var description: String {
            "an event-stream block grew past \(self.limit) bytes without a blank line"
        }
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The largest block read before ``BlockTooLarge``.
    package let maximumBlockSize: Int
    /// The last event id the stream set (what a reconnecting client sends as `Last-Event-ID`).
    package private(set) var lastEventId = ""
    /// The last reconnection time the stream set, in milliseconds.
    package private(set) var retry: Int?
    /// Bytes of the block under way, not yet ended by a blank line.
    package private(set) var pendingByteCount = 0

    private var byteOrderMarkMatched = 0
    private var line: [UInt8] = []
    private var previousWasCarriageReturn = false
    private var data: [UInt8] = []
    private var type: [UInt8] = []
    private var idBuffer = ""
    private var blockRetry: Int?
    private var blockHasComment = false
    private var failed: BlockTooLarge?

    /// A parser at the start of a stream.
    ///
    /// - Parameter maximumBlockSize: the largest block it reads (1 MiB unless told).
    package init(maximumBlockSize: Int = 1 << 20) {
        self.maximumBlockSize = maximumBlockSize
    }

    /// Reads the next piece of the stream.
    ///
    /// - Returns: the blocks it ended, in order.
    /// - Throws: ``BlockTooLarge`` once a block passes the limit (and on every later call).
    package mutating func feed(_ bytes: some Sequence<UInt8>) throws(BlockTooLarge) -> [Block] {
        // The loop is compiled once, for raw bytes: a generic one called from another module runs unspecialized,
        // a witness call per byte (a sixth of the proxy's time on a fast event stream).
        let result: Result<[Block], BlockTooLarge>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(BlockTooLarge) in try self.feed(bytes: UnsafeRawBufferPointer(buffer)) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBytes { buffer in
            Result { () throws(BlockTooLarge) in try self.feed(bytes: buffer) }
        }.get()
    }

    /// Reads the next piece of the stream, from raw memory.
    ///
    /// - Returns: the blocks it ended, in order.
    /// - Throws: ``BlockTooLarge`` once a block passes the limit (and on every later call).
    package mutating func feed(bytes: UnsafeRawBufferPointer) throws(BlockTooLarge) -> [Block] {
        if let failed = self.failed { throw failed }
        var blocks: [Block] = []
        // A block ended by a CR waits for the next byte: an LF right after is still its line end.
        var endedOnCarriageReturn: Block?
        for byte in bytes {
            if var block = endedOnCarriageReturn {
                endedOnCarriageReturn = nil
                if byte == UInt8(ascii: "\n") {
                    block.byteCount += 1
                    self.previousWasCarriageReturn = false
                    blocks.append(block)
                    continue
                }
                blocks.append(block)
            }
            self.pendingByteCount += 1
            if self.byteOrderMarkMatched < Self.byteOrderMark.count {
                if byte == Self.byteOrderMark[self.byteOrderMarkMatched] {
                    self.byteOrderMarkMatched += 1
                    continue
                }
                // Not a byte order mark after all: what matched is content.
                self.line += Self.byteOrderMark[0..<self.byteOrderMarkMatched]
                self.byteOrderMarkMatched = Self.byteOrderMark.count
            }
            switch byte {
            case UInt8(ascii: "\n") where self.previousWasCarriageReturn:
                self.previousWasCarriageReturn = false
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                self.previousWasCarriageReturn = byte == UInt8(ascii: "\r")
                if let block = self.endLine() {
                    if self.previousWasCarriageReturn {
                        endedOnCarriageReturn = block
                    } else {
                        blocks.append(block)
                    }
                }
            default:
                self.previousWasCarriageReturn = false
                self.line.append(byte)
            }
            if self.pendingByteCount > self.maximumBlockSize {
                let failure = BlockTooLarge(limit: self.maximumBlockSize)
                self.failed = failure
                throw failure
            }
        }
        if let block = endedOnCarriageReturn { blocks.append(block) }
        return blocks
    }

    /// A line ended: a field, a comment, or (blank) the end of a block.
    private mutating func endLine() -> Block? {
        defer { self.line.removeAll(keepingCapacity: true) }
        guard !self.line.isEmpty else { return self.endBlock() }
        if self.line[0] == UInt8(ascii: ":") {
            self.blockHasComment = true
            return nil
        }
        let name: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = self.line.firstIndex(of: UInt8(ascii: ":")) {
            name = self.line[..<colon]
            value = self.line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            name = self.line[...]
            value = []
        }
        switch String(decoding: name, as: UTF8.self) {
        case "data":
            self.data += value
            self.data.append(UInt8(ascii: "\n"))
        case "event":
            self.type = Array(value)
        case "id" where !value.contains(0):
            self.idBuffer = String(decoding: value, as: UTF8.self)
        case "retry":
            if !value.isEmpty, value.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                let milliseconds = Int(String(decoding: value, as: UTF8.self))
            {
                self.blockRetry = milliseconds
                self.retry = milliseconds
            }
        default:
            break
        }
        return nil
    }

    /// A blank line: the block ends and dispatches its event, if it has data.
    private mutating func endBlock() -> Block {
        self.lastEventId = self.idBuffer
        var event: ServerSentEvent?
        if !self.data.isEmpty {
            self.data.removeLast()
            event = ServerSentEvent(
                type: self.type.isEmpty ? "message" : String(decoding: self.type, as: UTF8.self),
                data: String(decoding: self.data, as: UTF8.self),
                lastEventId: self.lastEventId
            )
        }
        let block = Block(
            event: event,
            byteCount: self.pendingByteCount,
            retry: self.blockRetry,
            hasComment: self.blockHasComment,
            lastEventId: self.lastEventId
        )
        self.data.removeAll(keepingCapacity: true)
        self.type.removeAll()
        self.blockRetry = nil
        self.blockHasComment = false
        self.pendingByteCount = 0
        return block
    }
}
