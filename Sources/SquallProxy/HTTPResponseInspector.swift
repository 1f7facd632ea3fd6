import NIOCore

/// Watches the server → client stream for the answer to a WebSocket upgrade request and, after a 101, cuts the
/// stream into frames. Everything else passes untouched.
final class HTTPResponseInspector {
    private enum State {
        case raw
        case awaitingUpgradeResponse(ByteBuffer)
        case frames(WebSocketFrameSplitter)
    }

    private var state = State.raw

    /// Drops the frame decoder now, on the connection's event loop (see ``HTTPRequestInspector/release()``).
    func release() {
        self.state = .raw
    }

    /// An upgrade request has gone to the server: the next bytes start its answer.
    func expectUpgradeResponse() {
        if case .raw = self.state {
            self.state = .awaitingUpgradeResponse(ByteBuffer())
        }
    }

    /// Whether bytes pass untouched (no upgrade answer expected, no frames).
    var isPassThrough: Bool {
        if case .raw = self.state { return true }
        return false
    }

    /// Whether the stream is WebSocket frames now.
    var isUpgraded: Bool {
        if case .frames = self.state { return true }
        return false
    }

    /// Takes bytes read from the server.
    ///
    /// - Returns: the items for the downstream chain, and the upgrade's outcome when these bytes completed the
    ///   answer's head (true: 101).
    func feed(_ buffer: ByteBuffer, receivedAt: NIODeadline) throws -> (items: [StreamItem], upgraded: Bool?) {
        switch self.state {
        case .raw:
            return ([.data(buffer, receivedAt: receivedAt)], nil)
        case .frames(let splitter):
            do {
                return (
                    try splitter.feed(buffer).map { .data($0.bytes, receivedAt: receivedAt, unit: .frame($0.opcode)) },
                    nil
                )
            } catch {
                throw HTTPRequestInspector.MalformedStream()
            }
        case .awaitingUpgradeResponse(var held):
            var copy = buffer
            held.writeBuffer(&copy)
            guard let end = Self.endOfHead(held) else {
                guard held.readableBytes < 64 * 1024 else { throw HTTPRequestInspector.MalformedStream() }
                self.state = .awaitingUpgradeResponse(held)
                return ([], nil)
            }
            let head = held.readSlice(length: end)!
            let status = HTTPWire.responseStatus(of: head) ?? 0
            var items: [StreamItem] = [.data(head, receivedAt: receivedAt, unit: .upgradeResponse(status: status))]
            if status == 101 {
                let splitter = WebSocketFrameSplitter()
                self.state = .frames(splitter)
                if held.readableBytes > 0 {
                    do {
                        items += try splitter.feed(held).map {
                            .data($0.bytes, receivedAt: receivedAt, unit: .frame($0.opcode))
                        }
                    } catch {
                        throw HTTPRequestInspector.MalformedStream()
                    }
                }
                return (items, true)
            }
            self.state = .raw
            if held.readableBytes > 0 {
                items.append(.data(held, receivedAt: receivedAt))
            }
            return (items, false)
        }
    }

    /// Where the response head ends (just after the blank line), if it has arrived. Only the boundary is found
    /// here; the head itself is parsed by NIO's decoder.
    private static func endOfHead(_ buffer: ByteBuffer) -> Int? {
        let bytes = buffer.readableBytesView
        guard bytes.count >= 4 else { return nil }
        var index = bytes.startIndex
        while index + 3 < bytes.endIndex {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index - bytes.startIndex + 4
            }
            index += 1
        }
        return nil
    }
}
