import NIOCore

/// What reads a side's stream once an upgrade switched it away from HTTP: frame inspection for WebSocket
/// (``WebSocketFrameCutter``), plain bytes (``PlainBytesHandler``) for any other protocol, such as `h2c`.
enum SwitchedStreamInspection {
    /// Adds the handlers after `handler`, which (or a decoder leaving just before them) hands them the bytes it held.
    static func install(
        webSocket: Bool,
        after handler: any ChannelHandler,
        in pipeline: ChannelPipeline.SynchronousOperations
    ) throws {
        if webSocket {
            try WebSocketFrameCutter.install(after: handler, in: pipeline)
        } else {
            try pipeline.addHandler(PlainBytesHandler(), position: .after(handler))
        }
    }
}
