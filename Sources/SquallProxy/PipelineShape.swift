/// What one socket's pipeline of a proxied connection inspects its stream as, and the only ways that can change.
///
/// Each shape names the handlers between the ``ProxyWireHandler`` and the ``ProxyEndpointHandler``, and so what
/// type of message flows where: the wire hands on bytes, inspection turns them into ``StreamItem``s, and the
/// endpoint takes items. ``ProxyConnection`` changes a pipeline only through ``after(_:)``: a change the current
/// shape does not allow is refused (the connection closes with the reason) instead of installing a byte decoder
/// behind a handler that forwards items — which is how one hostile connection used to crash the whole proxy.
///
/// | shape | client socket | server socket |
/// |---|---|---|
/// | `sniffing` | ``HTTPStreamSniffer`` | — |
/// | `raw` | nothing: the wire hands bytes straight to the connection | the same (until an upgrade request) |
/// | `http` | NIO's request decoder, ``HTTPRequestCollector`` | a tap, NIO's response decoder, ``ServerAnswerCollector`` |
/// | `frames` | a tap, NIO's frame decoder, ``WebSocketFrameCutter`` | the same |
/// | `plain` | ``PlainBytesHandler`` | the same |
enum PipelineShape: Equatable, CustomStringConvertible {
    /// The client's first bytes are awaited to tell whether the stream is HTTP.
    case sniffing
    /// Nothing to inspect.
    case raw
    /// HTTP requests (client) or the answers to upgrade requests (server).
    case http
    /// WebSocket frames, after a 101 to a WebSocket upgrade.
    case frames
    /// Another protocol's bytes, after a 101 to a non-WebSocket upgrade (such as `h2c`).
    case plain

    /// What asks a pipeline to change.
    enum Event: Equatable, CustomStringConvertible {
        /// The client's sniffer decided what its stream is.
        case sniffed(isHTTP: Bool)
        /// An upgrade request is about to be written to the server.
        case requestWritten
        /// An upgrade did not happen (refused by the server, failed or stripped by a fault): HTTP goes on.
        case upgradeRefused
        /// The server answered 101: the stream is frames (WebSocket) or plain bytes from now on.
        case switched(webSocket: Bool)

        var description: String {
            switch self {
            case .sniffed(let isHTTP): return isHTTP ? "sniffed HTTP" : "sniffed non-HTTP"
            case .requestWritten: return "request written"
            case .upgradeRefused: return "upgrade refused"
            case .switched(let webSocket): return webSocket ? "switched to WebSocket" : "switched protocols"
            }
        }
    }

    /// The shape a client socket's pipeline starts in.
    static let clientStart = PipelineShape.sniffing
    /// The shape a server socket's pipeline starts in.
    static let serverStart = PipelineShape.raw

    /// The shape after `event`, or nil when `event` cannot happen to this shape.
    func after(_ event: Event) -> PipelineShape? {
        switch (self, event) {
        case (.sniffing, .sniffed(let isHTTP)):
            return isHTTP ? .http : .raw
        case (.raw, .requestWritten), (.http, .requestWritten):
            return .http
        case (.http, .upgradeRefused):
            return .http
        case (.http, .switched(let webSocket)):
            return webSocket ? .frames : .plain
        case (.sniffing, .requestWritten), (.sniffing, .upgradeRefused), (.sniffing, .switched),
            (.raw, .sniffed), (.raw, .upgradeRefused), (.raw, .switched),
            (.http, .sniffed),
            (.frames, _), (.plain, _):
            return nil
        }
    }

    /// Whether the wire handler hands bytes straight to the connection (no inspection handler to pass them to).
    var isRaw: Bool {
        switch self {
        case .raw: return true
        case .sniffing, .http, .frames, .plain: return false
        }
    }

    var description: String {
        switch self {
        case .sniffing: return "sniffing"
        case .raw: return "raw"
        case .http: return "HTTP"
        case .frames: return "frames"
        case .plain: return "plain bytes"
        }
    }
}
