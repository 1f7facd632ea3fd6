import NIOCore

/// Sits in front of one of NIO's decoders and keeps a copy of the bytes it is fed, so the handler after the decoder
/// can forward each decoded message as the original bytes it came from, cut where the message ends.
final class RecordingTap: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The bytes fed to the decoder and not yet claimed by a decoded message; shared by the tap and the handler
    /// after the decoder, on the channel's event loop.
    final class Recording {
        /// The unclaimed bytes, oldest first.
        private(set) var bytes = ByteBuffer()

        /// Appends bytes the decoder is about to be fed.
        func record(_ buffer: ByteBuffer) {
            var copy = buffer
            self.bytes.writeBuffer(&copy)
        }

        /// Claims the oldest `length` bytes; nil if fewer were recorded.
        func take(_ length: Int) -> ByteBuffer? {
            let slice = self.bytes.readSlice(length: length)
            if self.bytes.readableBytes == 0 {
                self.bytes.clear()
            } else if self.bytes.readerIndex >= 1 << 16 {
                self.bytes.discardReadBytes()
            }
            return slice
        }

        /// Lets `body` claim bytes from the front of what is recorded (by reading them), leaving the rest.
        func read<Result, Failure: Error>(
            _ body: (inout ByteBuffer) throws(Failure) -> Result
        ) throws(Failure) -> Result {
            defer {
                if self.bytes.readableBytes == 0 {
                    self.bytes.clear()
                } else if self.bytes.readerIndex >= 1 << 16 {
                    self.bytes.discardReadBytes()
                }
            }
            return try body(&self.bytes)
        }

        /// Claims every recorded byte.
        func takeAll() -> ByteBuffer {
            self.take(self.bytes.readableBytes)!
        }
    }

    /// What the tap records into.
    let recording: Recording

    /// Creates a tap recording into `recording`.
    init(recording: Recording) {
        self.recording = recording
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.recording.record(self.unwrapInboundIn(data))
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension RecordingTap: Sendable {}

@available(*, unavailable)
extension RecordingTap.Recording: Sendable {}
