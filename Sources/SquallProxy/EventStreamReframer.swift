import NIOCore
import SquallReferenceProtocol

/// Cuts the body of a `text/event-stream` answer into its blocks, each framed as a chunk of its own, so every block
/// travels the downstream chain as one unit that a fault can hold, drop or cut (``ProtocolUnit/eventBlock(isEvent:)``).
///
/// A value with no I/O, fed the raw bytes after the answer's head as they arrive. It reads the body's framing itself
/// (chunked, or everything until the server closes), so it stops exactly where the body ends and leaves what follows
/// (the next answer on a keep-alive connection) where it was; the blocks are found by the same parser the reference
/// client reads events with (``ServerSentEventParser``). Chunk boundaries are hop-by-hop in HTTP/1.1 and mean
/// nothing to an event stream: an intermediary that re-chunks, as nginx does, is still transparent. The answer's
/// last chunk and trailers go on as the server wrote them.
struct EventStreamReframer {
    /// How the body's end is found.
    enum Framing: Equatable {
        /// `Transfer-Encoding: chunked`.
        case chunked
        /// No length: the body ends when the server closes (`HTTP/1.0`, or `Connection: close` without a length).
        case untilClose
    }

    /// What goes on, in order.
    enum Piece: Equatable {
        /// One block, framed for the client; `isEvent` when it dispatches an event.
        case block(ByteBuffer, isEvent: Bool)
        /// Bytes that are not a whole block: an unfinished block when the body ends, or everything after a block
        /// that outgrew the parser's limit.
        case bytes(ByteBuffer)
        /// The end of a chunked body (the last chunk, trailers and the blank line), as the server wrote it.
        case last(ByteBuffer)
    }

    /// The body's chunked framing is broken: the answer is not one an HTTP client could read either.
    struct MalformedChunk: Error, CustomStringConvertible {
        /// What was wrong.
        var reason: String
        var description: String { "malformed chunked event stream: \(self.reason)" }
    }

    /// Where in the chunked framing the next byte belongs.
    private enum ChunkState {
        /// A chunk's size line (hex digits, then extensions, up to CRLF).
        case size(line: [UInt8])
        /// `remaining` bytes of chunk data.
        case data(remaining: Int)
        /// The CRLF after a chunk's data; `matched` bytes of it read.
        case dataEnd(matched: Int)
        /// Trailer lines after the last chunk, up to the blank line; `lineLength` bytes of the current one.
        case trailers(lineLength: Int)
        /// The body ended.
        case finished
    }

    /// The longest chunk-size line or trailer line accepted.
    static let maximumLineLength = 4096

    /// How the body's end is found.
    let framing: Framing
    private var chunk = ChunkState.size(line: [])
    private var parser = ServerSentEventParser()
    /// Body bytes read and not yet handed on as a block.
    private var pending = ByteBuffer()
    /// The raw bytes of the last chunk and its trailers, as they are read.
    private var lastChunk = ByteBuffer()
    /// Whether the parser gave up (a block outgrew its limit): body bytes go on as they are read.
    private var unparsed = false
    /// Whether any byte of the body was read.
    private(set) var hasStarted = false

    /// A reframer for a body framed as `framing`.
    init(framing: Framing) {
        self.framing = framing
    }

    /// Whether the body has ended (a chunked body's last chunk and trailers were read).
    var isFinished: Bool {
        if case .finished = self.chunk { return true }
        return false
    }

    /// Reads the raw bytes at the front of `buffer` that belong to the body, leaving any after its end.
    ///
    /// - Returns: the pieces to send on.
    /// - Throws: ``MalformedChunk`` when the chunked framing is broken.
    mutating func read(_ buffer: inout ByteBuffer) throws(MalformedChunk) -> [Piece] {
        guard buffer.readableBytes > 0 else { return [] }
        self.hasStarted = true
        switch self.framing {
        case .untilClose:
            let body = buffer.readSlice(length: buffer.readableBytes)!
            return self.take(body)
        case .chunked:
            return try self.readChunked(&buffer)
        }
    }

    /// The server closed: what is left of an unfinished block goes on as bytes.
    mutating func finish() -> [Piece] {
        self.chunk = .finished
        guard self.pending.readableBytes > 0 else { return [] }
        let rest = self.pending.readSlice(length: self.pending.readableBytes)!
        return [.bytes(self.framed(rest))]
    }

    private mutating func readChunked(_ buffer: inout ByteBuffer) throws(MalformedChunk) -> [Piece] {
        var pieces: [Piece] = []
        while buffer.readableBytes > 0 {
            switch self.chunk {
            case .size(var line):
                let byte = buffer.readInteger(as: UInt8.self)!
                guard byte == UInt8(ascii: "\n") else {
                    line.append(byte)
                    guard line.count <= Self.maximumLineLength else {
                        throw MalformedChunk(reason: "a chunk-size line longer than \(Self.maximumLineLength) bytes")
                    }
                    self.chunk = .size(line: line)
                    continue
                }
                guard line.last == UInt8(ascii: "\r") else {
                    throw MalformedChunk(reason: "a chunk-size line not ended by CRLF")
                }
                let size = try Self.chunkSize(line.dropLast())
                if size == 0 {
                    self.lastChunk.writeBytes(line)
                    self.lastChunk.writeInteger(UInt8(ascii: "\n"))
                    self.chunk = .trailers(lineLength: 0)
                } else {
                    self.chunk = .data(remaining: size)
                }
            case .data(let remaining):
                let count = min(remaining, buffer.readableBytes)
                let data = buffer.readSlice(length: count)!
                self.chunk = count == remaining ? .dataEnd(matched: 0) : .data(remaining: remaining - count)
                pieces += self.take(data)
            case .dataEnd(let matched):
                let byte = buffer.readInteger(as: UInt8.self)!
                guard byte == (matched == 0 ? UInt8(ascii: "\r") : UInt8(ascii: "\n")) else {
                    throw MalformedChunk(reason: "chunk data not followed by CRLF")
                }
                self.chunk = matched == 0 ? .dataEnd(matched: 1) : .size(line: [])
            case .trailers(let lineLength):
                let byte = buffer.readInteger(as: UInt8.self)!
                self.lastChunk.writeInteger(byte)
                guard byte == UInt8(ascii: "\n") else {
                    guard lineLength < Self.maximumLineLength else {
                        throw MalformedChunk(reason: "a trailer line longer than \(Self.maximumLineLength) bytes")
                    }
                    self.chunk = .trailers(lineLength: lineLength + 1)
                    continue
                }
                // A line of just CRLF (length 1: its CR) ends the trailers.
                guard lineLength <= 1 else {
                    self.chunk = .trailers(lineLength: 0)
                    continue
                }
                self.chunk = .finished
                pieces += self.finish()
                pieces.append(.last(self.lastChunk))
                self.lastChunk = ByteBuffer()
                return pieces
            case .finished:
                return pieces
            }
        }
        return pieces
    }

    /// Body bytes: each block they end goes on framed as a chunk of its own.
    private mutating func take(_ body: ByteBuffer) -> [Piece] {
        guard !self.unparsed else { return [.bytes(self.framed(body))] }
        var body = body
        let blocks: [ServerSentEventParser.Block]
        do {
            blocks = try body.withUnsafeReadableBytes { bytes throws(ServerSentEventParser.BlockTooLarge) in
                try self.parser.feed(bytes: bytes)
            }
        } catch {
            // Not a stream to read block by block: what is held, and everything after, goes on as it comes.
            self.unparsed = true
            self.pending.writeBuffer(&body)
            let rest = self.pending.readSlice(length: self.pending.readableBytes)!
            self.pending = ByteBuffer()
            return [.bytes(self.framed(rest))]
        }
        self.pending.writeBuffer(&body)
        var pieces: [Piece] = []
        pieces.reserveCapacity(blocks.count)
        for block in blocks {
            let bytes = self.pending.readSlice(length: block.byteCount)!
            pieces.append(.block(self.framed(bytes), isEvent: block.event != nil))
        }
        if self.pending.readableBytes == 0 {
            self.pending.clear()
        } else if self.pending.readerIndex >= 1 << 16 {
            self.pending.discardReadBytes()
        }
        return pieces
    }

    /// Body bytes framed as the body is: a chunk of their own, or as they are.
    private func framed(_ bytes: ByteBuffer) -> ByteBuffer {
        switch self.framing {
        case .untilClose:
            return bytes
        case .chunked:
            var chunk = ByteBuffer()
            chunk.reserveCapacity(bytes.readableBytes + 12)
            chunk.writeString(String(bytes.readableBytes, radix: 16))
            chunk.writeStaticString("\r\n")
            var data = bytes
            chunk.writeBuffer(&data)
            chunk.writeStaticString("\r\n")
            return chunk
        }
    }

    /// The size a chunk-size line (without its CRLF) gives: hex digits, then optional `;` extensions.
    private static func chunkSize(_ line: ArraySlice<UInt8>) throws(MalformedChunk) -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                guard digits > 0 else { throw MalformedChunk(reason: "a chunk size that is not hex digits") }
                return size
            default:
                throw MalformedChunk(reason: "a chunk size that is not hex digits")
            }
            digits += 1
            // 15 hex digits stay far below Int.max; no real chunk comes near.
            guard digits <= 15 else { throw MalformedChunk(reason: "a chunk size of more than 15 hex digits") }
            size = size * 16 + value
        }
        guard digits > 0 else { throw MalformedChunk(reason: "an empty chunk-size line") }
        return size
    }
}
