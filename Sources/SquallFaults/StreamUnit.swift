/// What one unit travelling through a fault is, as far as any fault cares: its size and what protocol unit it is.
///
/// The proxy's units are what it read (a chunk of bytes, a whole HTTP request, a whole WebSocket frame); the
/// simulator's are its messages. A fault's rule sees the same kinds from both.
package struct StreamUnit: Sendable, Hashable {
    /// What kind of unit.
    package enum Kind: Sendable, Hashable {
        /// Plain bytes (a chunk of a stream, an HTTP answer).
        case bytes
        /// One whole HTTP request.
        case request(method: String, target: String)
        /// One whole WebSocket frame.
        case frame(FrameKind)
        /// One block of an event stream (a `text/event-stream` answer, up to and including its blank line):
        /// `isEvent` when it dispatches an event (it has data), not for a comment or a `retry:` alone.
        case eventBlock(isEvent: Bool)
    }

    /// A WebSocket frame's opcode, as far as faults care.
    package enum FrameKind: Sendable, Hashable {
        case text, binary, continuation, close, ping, pong

        /// Whether it carries data (what `close_after_frames` counts).
        package var isData: Bool {
            switch self {
            case .text, .binary, .continuation: true
            case .close, .ping, .pong: false
            }
        }
    }

    /// Its size in bytes.
    package var size: Int
    /// What it is.
    package var kind: Kind

    /// A unit of `size` bytes of `kind`.
    package init(size: Int, kind: Kind = .bytes) {
        self.size = size
        self.kind = kind
    }
}
