import NIOCore
import NIOWebSocket

/// Cuts a WebSocket byte stream into whole frames. It sits after NIO's `WebSocketFrameDecoder`, behind a
/// ``RecordingTap``: each decoded frame's wire size tells where it ends in the recorded bytes, and those original
/// bytes are passed on untouched as one item.
final class WebSocketFrameCutter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = StreamItem

    /// A decoded frame does not match the bytes it was decoded from.
    struct InvalidFraming: Error {}

    /// The largest frame the proxy accepts.
    static let maximumFrameSize = 1 << 24

    private let recording: RecordingTap.Recording

    private init(recording: RecordingTap.Recording) {
        self.recording = recording
    }

    /// Adds a tap, NIO's frame decoder and a cutter after `handler`, in that order: bytes fired by `handler` (or by
    /// a decoder being removed just before them) come out as frame items.
    static func install(after handler: any ChannelHandler, in pipeline: ChannelPipeline.SynchronousOperations) throws {
        let recording = RecordingTap.Recording()
        try pipeline.addHandlers(
            [
                RecordingTap(recording: recording),
                ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: Self.maximumFrameSize)),
                WebSocketFrameCutter(recording: recording),
            ],
            position: .after(handler)
        )
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        guard let size = Self.wireSize(of: frame, recorded: self.recording.bytes),
            let bytes = self.recording.take(size)
        else {
            return context.fireErrorCaught(InvalidFraming())
        }
        context.fireChannelRead(self.wrapInboundOut(.data(bytes, receivedAt: .now(), unit: .frame(frame.opcode))))
    }

    /// The bytes a frame takes on the wire (RFC 6455 §5.2): the two header bytes, the extended length and the mask
    /// key as the recorded header says (a peer may use a longer length encoding than needed), then the payload as
    /// NIO's decoder found it. Nil when the header has not been recorded.
    static func wireSize(of frame: WebSocketFrame, recorded: ByteBuffer) -> Int? {
        guard let second = recorded.getInteger(at: recorded.readerIndex + 1, as: UInt8.self) else { return nil }
        let extended: Int
        switch second & 0x7F {
        case 126: extended = 2
        case 127: extended = 8
        default: extended = 0
        }
        return 2 + extended + (second & 0x80 == 0 ? 0 : 4) + frame.length
    }
}

@available(*, unavailable)
extension WebSocketFrameCutter: Sendable {}
