import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket

/// Recognises HTTP requests and, after an accepted upgrade, WebSocket frames in the client → server stream, so
/// message faults can act on whole requests and frames.
///
/// A stream that does not start like an HTTP request passes untouched. HTTP requests are decoded by NIO's decoder
/// and re-encoded by NIO's encoder (as an HTTP proxy does); after a `101 Switching Protocols` the original bytes
/// flow again, cut at frame boundaries.
final class HTTPRequestInspector {
    /// What the inspector made of the bytes so far.
    enum State {
        /// Waiting for enough bytes to tell whether this is HTTP.
        case sniffing
        /// HTTP/1.x requests.
        case http
        /// An upgrade request went out; later bytes wait for the server's answer.
        case awaitingUpgradeResponse
        /// WebSocket frames.
        case frames
        /// Not HTTP, or no longer inspectable: bytes pass untouched.
        case raw
    }

    /// The stream broke HTTP framing after it had started as HTTP: the connection should be cut.
    struct MalformedStream: Error {}

    /// Requests longer than this are not buffered for inspection.
    static let maximumRequestSize = 8 << 20

    private(set) var state = State.sniffing
    private var pending = ByteBuffer()
    private var decoder: EmbeddedChannel?
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var splitter: WebSocketFrameSplitter?

    /// Drops the embedded decoders now, on the connection's event loop: an `EmbeddedEventLoop` must be freed on the
    /// thread that created it, and the connection itself may be freed elsewhere (a registry snapshot held by the
    /// proxy actor). Later bytes pass untouched.
    func release() {
        _ = try? self.decoder?.finish()
        self.decoder = nil
        self.splitter = nil
        self.state = .raw
    }

    deinit {
        _ = try? self.decoder?.finish()
    }

    /// Whether bytes pass untouched (the stream is not HTTP).
    var isPassThrough: Bool {
        if case .raw = self.state { return true }
        return false
    }

    /// Takes bytes read from the client and returns what goes into the upstream fault chain.
    func feed(_ buffer: ByteBuffer, receivedAt: NIODeadline) throws -> [StreamItem] {
        switch self.state {
        case .raw:
            return [.data(buffer, receivedAt: receivedAt)]
        case .sniffing:
            var copy = buffer
            self.pending.writeBuffer(&copy)
            guard let looksLikeHTTP = Self.looksLikeHTTP(self.pending) else { return [] }
            let sniffed = self.pending
            self.pending = ByteBuffer()
            if !looksLikeHTTP {
                self.state = .raw
                return [.data(sniffed, receivedAt: receivedAt)]
            }
            self.state = .http
            self.decoder = Self.makeDecoder()
            return try self.decode(sniffed, receivedAt: receivedAt)
        case .http:
            return try self.decode(buffer, receivedAt: receivedAt)
        case .awaitingUpgradeResponse:
            var copy = buffer
            self.pending.writeBuffer(&copy)
            return []
        case .frames:
            return try self.frames(buffer, receivedAt: receivedAt)
        }
    }

    /// The server answered the upgrade request: with 101 the stream becomes WebSocket frames, otherwise it stays
    /// HTTP. Returns the items for bytes the client sent meanwhile.
    func upgradeResolved(switched: Bool, receivedAt: NIODeadline) throws -> [StreamItem] {
        guard case .awaitingUpgradeResponse = self.state else { return [] }
        let held = self.pending
        self.pending = ByteBuffer()
        if switched {
            self.state = .frames
            self.splitter = WebSocketFrameSplitter()
            return held.readableBytes > 0 ? try self.frames(held, receivedAt: receivedAt) : []
        }
        self.state = .http
        self.decoder = Self.makeDecoder()
        return held.readableBytes > 0 ? try self.decode(held, receivedAt: receivedAt) : []
    }

    private func decode(_ buffer: ByteBuffer, receivedAt: NIODeadline) throws -> [StreamItem] {
        guard let decoder = self.decoder else { return [.data(buffer, receivedAt: receivedAt)] }
        do {
            try decoder.writeInbound(buffer)
        } catch {
            throw MalformedStream()
        }
        var items: [StreamItem] = []
        while let part = try? decoder.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let head):
                self.head = head
                self.body = nil
            case .body(var chunk):
                if self.body == nil { self.body = ByteBuffer() }
                guard self.body!.readableBytes + chunk.readableBytes <= Self.maximumRequestSize else {
                    throw MalformedStream()
                }
                self.body!.writeBuffer(&chunk)
            case .end:
                guard let head = self.head else { continue }
                self.head = nil
                let bytes = HTTPWire.encodeRequest(head, body: self.body)
                self.body = nil
                items.append(.data(bytes, receivedAt: receivedAt, unit: .request(head)))
                if HTTPWire.isWebSocketUpgrade(head) {
                    // NIO's decoder stops after an upgrade request; what follows is held until the server answers.
                    self.state = .awaitingUpgradeResponse
                    self.pending = Self.leftovers(of: decoder)
                    self.decoder = nil
                    return items
                }
            }
        }
        return items
    }

    private func frames(_ buffer: ByteBuffer, receivedAt: NIODeadline) throws -> [StreamItem] {
        guard let splitter = self.splitter else { return [.data(buffer, receivedAt: receivedAt)] }
        do {
            return try splitter.feed(buffer).map { .data($0.bytes, receivedAt: receivedAt, unit: .frame($0.opcode)) }
        } catch {
            throw MalformedStream()
        }
    }

    private static func makeDecoder() -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
    }

    /// Removes the decoder and returns the bytes it had not parsed yet.
    private static func leftovers(of decoder: EmbeddedChannel) -> ByteBuffer {
        var result = ByteBuffer()
        if let handler = try? decoder.pipeline.syncOperations.handler(
            type: ByteToMessageHandler<HTTPRequestDecoder>.self
        ) {
            // An embedded loop runs queued work only when asked; never wait() on it.
            decoder.pipeline.syncOperations.removeHandler(handler, promise: nil)
            decoder.embeddedEventLoop.run()
        }
        while let chunk = try? decoder.readInbound(as: ByteBuffer.self) {
            var chunk = chunk
            result.writeBuffer(&chunk)
        }
        _ = try? decoder.finish()
        return result
    }

    /// Whether the bytes start like an HTTP/1.x request (a known method, then a space); nil while too short to
    /// tell.
    private static func looksLikeHTTP(_ buffer: ByteBuffer) -> Bool? {
        let methods = ["GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "]
        let prefix = Array(buffer.readableBytesView.prefix(8))
        for method in methods {
            let bytes = Array(method.utf8)
            let count = min(bytes.count, prefix.count)
            if Array(bytes[0..<count]) == Array(prefix[0..<count]) {
                if count == bytes.count { return true }
                return nil
            }
        }
        return buffer.readableBytes == 0 ? nil : false
    }
}
