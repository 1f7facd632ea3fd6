import NIOCore
import NIOEmbedded
import NIOWebSocket

/// Cuts a WebSocket byte stream into whole frames: NIO's frame decoder reads a copy of the stream, and each decoded
/// frame's wire size tells where it ends in the original bytes, which are passed on untouched.
final class WebSocketFrameSplitter {
    /// The stream is not valid WebSocket framing.
    struct InvalidFraming: Error {}

    private let decoder = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 24)))
    private var raw = ByteBuffer()

    deinit {
        _ = try? self.decoder.finish()
    }

    /// Takes the next bytes; returns the frames they complete, each with its original bytes.
    func feed(_ buffer: ByteBuffer) throws -> [(bytes: ByteBuffer, opcode: WebSocketOpcode)] {
        var copy = buffer
        self.raw.writeBuffer(&copy)
        try self.decoder.writeInbound(buffer)
        var frames: [(ByteBuffer, WebSocketOpcode)] = []
        while let frame = try self.decoder.readInbound(as: WebSocketFrame.self) {
            let size = Self.wireSize(of: frame)
            guard let bytes = self.raw.readSlice(length: size) else { throw InvalidFraming() }
            frames.append((bytes, frame.opcode))
        }
        self.raw.discardReadBytes()
        return frames
    }

    /// The bytes a frame takes on the wire: header, extended length, mask and payload (RFC 6455 §5.2, minimal
    /// length encoding as every conforming peer sends).
    static func wireSize(of frame: WebSocketFrame) -> Int {
        let length = frame.length
        let extended = length < 126 ? 0 : (length <= 0xFFFF ? 2 : 8)
        return 2 + extended + (frame.maskKey == nil ? 0 : 4) + length
    }
}
