/// Every kind of fault the proxy can inject, with the attributes each accepts.
///
/// The raw values are the `type` strings of the JSON and control API. The byte-stream types keep Toxiproxy's names
/// and attribute units so existing Toxiproxy clients work unchanged.
public enum FaultType: String, Sendable, Hashable, CaseIterable {
    /// Passes everything through; useful as a marker.
    case noop
    /// Delays each chunk by `latency` ± `jitter`, measured from when the proxy received it.
    case latency
    /// Limits throughput with a token bucket; `rate: 0` pauses the direction until lifted.
    case bandwidth
    /// Cuts chunks into small pieces with a delay between them.
    case slicer
    /// Delays the close (FIN) of the direction.
    case slowClose = "slow_close"
    /// Forwards a number of bytes, then closes the connection.
    case limitData = "limit_data"
    /// Drops all data; closes the connection after `timeout` without incoming data (0: never).
    case timeout
    /// Closes the connection once it is `lifetime` old, whatever the traffic.
    case limitTime = "limit_time"
    /// Closes the connection after `timeout` without a byte either way, as load balancers and proxies do; data
    /// passes untouched.
    case idleTimeout = "idle_timeout"
    /// Resets the connection (RST) on the first data in its direction, after `timeout`.
    case resetPeer = "reset_peer"
    /// Keeps the socket open and delivers nothing in its direction, no FIN either: a half-open connection.
    case blackhole
    /// The proxy refuses new connections and closes live ones while this fault exists.
    case down
    /// Accepts the connection, then resets it at once without contacting the server.
    case refuse
    /// Waits `delay` before connecting to the server.
    case slowOpen = "slow_open"
    /// Accepts the connection and never connects to the server nor answers.
    case connectBlackhole = "connect_blackhole"
    /// Acts on HTTP requests that ask to upgrade to WebSocket, as corporate proxies do.
    case blockUpgrade = "block_upgrade"
    /// Swallows WebSocket ping and pong frames.
    case dropPings = "drop_pings"
    /// Ends the WebSocket after a number of data frames, with a close frame or by cutting TCP.
    case closeAfterFrames = "close_after_frames"
    /// Delays each WebSocket frame, keeping their order.
    case delayFrames = "delay_frames"
    /// Answers matching HTTP requests with an error status instead of forwarding them.
    case failRequests = "fail_requests"
    /// Holds matching HTTP requests before forwarding them.
    case delayRequests = "delay_requests"
    /// Forwards matching HTTP requests without a named header, as CDNs and proxies drop `Last-Event-ID`.
    case stripHeader = "strip_header"
    /// Drops whole chunks of the byte stream at random, as Toxiproxy's `packet_loss` does.
    case packetLoss = "packet_loss"
    /// Packet loss as TCP experiences it: lost segments are retransmitted after a timeout; no byte is lost.
    case tcpLoss = "tcp_loss"
    /// Holds an event stream's events until a buffer fills or the stream ends, as nginx's `proxy_buffering` does.
    case bufferStream = "buffer_stream"
    /// Cuts an event stream's connection after a number of events, or in the middle of one.
    case cutStream = "cut_stream"
    /// Drops whole events from an event stream (every Nth, or at a seeded rate).
    case dropEvents = "drop_events"

    /// When a fault of this type acts.
    public enum Phase: Sendable, Hashable {
        /// On the bytes of one direction of a live connection.
        case stream
        /// When a connection is accepted, before the proxy connects to the server.
        case connect
        /// On the whole proxy.
        case proxy
        /// On whole HTTP requests or WebSocket frames of a direction, before the byte-stream faults.
        case message
    }

    /// When this type acts.
    public var phase: Phase {
        switch self {
        case .noop, .latency, .bandwidth, .slicer, .slowClose, .limitData, .timeout, .limitTime, .idleTimeout,
            .packetLoss, .tcpLoss, .resetPeer, .blackhole:
            return .stream
        case .refuse, .slowOpen, .connectBlackhole:
            return .connect
        case .down:
            return .proxy
        case .blockUpgrade, .dropPings, .closeAfterFrames, .delayFrames, .failRequests, .delayRequests, .stripHeader,
            .bufferStream, .cutStream, .dropEvents:
            return .message
        }
    }

    /// Whether the fault acts on both directions whatever its `stream` (WebSocket pings and pongs travel both
    /// ways).
    public var actsBothWays: Bool {
        self == .dropPings
    }

    /// Whether the fault acts on HTTP requests, which only travel client → server: it acts on the upstream
    /// direction whatever its `stream` says (a `block_upgrade` left at the default `downstream` would otherwise
    /// never see an upgrade request).
    public var actsOnRequests: Bool {
        self == .blockUpgrade || self == .failRequests || self == .delayRequests || self == .stripHeader
    }

    /// Whether the fault acts on the blocks of event streams (`text/event-stream` answers), which only travel
    /// server → client: it acts on the downstream direction whatever its `stream`.
    public var actsOnEvents: Bool {
        switch self {
        case .bufferStream, .cutStream, .dropEvents:
            true
        case .noop, .latency, .bandwidth, .slicer, .slowClose, .limitData, .timeout, .limitTime, .idleTimeout,
            .resetPeer, .blackhole, .down, .refuse, .slowOpen, .connectBlackhole, .blockUpgrade, .dropPings,
            .closeAfterFrames, .delayFrames, .failRequests, .delayRequests, .stripHeader, .packetLoss, .tcpLoss:
            false
        }
    }

    /// Whether a ``RequestRule`` decides what happens to each request (`block_upgrade`, `fail_requests`,
    /// `strip_header`): the proxy's request stage and the simulator's request fate carry these out, not the chain of
    /// message and byte rules (`delay_requests` acts on requests too, but holds them in that chain).
    public var decidesRequests: Bool {
        switch self {
        case .blockUpgrade, .failRequests, .stripHeader:
            true
        case .noop, .latency, .bandwidth, .slicer, .slowClose, .limitData, .timeout, .limitTime, .idleTimeout,
            .resetPeer, .blackhole, .down, .refuse, .slowOpen, .connectBlackhole, .dropPings, .closeAfterFrames,
            .delayFrames, .delayRequests, .packetLoss, .tcpLoss, .bufferStream, .cutStream, .dropEvents:
            false
        }
    }

    /// The attributes this type accepts, in the order they are documented and echoed.
    public var attributes: [FaultAttribute] {
        switch self {
        case .noop, .blackhole, .down, .refuse, .connectBlackhole, .dropPings:
            return []
        case .blockUpgrade:
            return [
                FaultAttribute(
                    "mode",
                    text: "reject",
                    choices: ["reject", "strip", "reset", "hang", "blackhole_after_101", "buffer_after_101"],
                    "what happens to a WebSocket upgrade request"
                ),
                FaultAttribute(
                    "status",
                    .count,
                    default: 403,
                    minimum: 100,
                    maximum: 599,
                    "status answered in reject mode"
                ),
                FaultAttribute("interval", .milliseconds, default: 1000, "burst period of buffer_after_101"),
            ]
        case .closeAfterFrames:
            return [
                FaultAttribute(
                    "frames",
                    .count,
                    default: 10,
                    "data frames let through (in this direction) before the close"
                ),
                FaultAttribute(
                    "code",
                    .count,
                    default: 1001,
                    minimum: 1000,
                    maximum: 4999,
                    "close code sent both ways; 1006 cuts TCP without a close frame"
                ),
            ]
        case .delayFrames:
            return [FaultAttribute("delay", .milliseconds, "delay added to every frame")]
        case .failRequests:
            return [
                FaultAttribute(
                    "status",
                    .count,
                    default: 503,
                    minimum: 100,
                    maximum: 599,
                    "status of the injected answer"
                ),
                FaultAttribute(
                    "mode",
                    text: "answer",
                    choices: ["answer", "hang"],
                    "answer with the status, or hang: swallow the request, never answer, the connection silent"
                ),
                FaultAttribute("every", .count, default: 1, minimum: 1, "fail every Nth matching request (1: all)"),
                FaultAttribute(
                    "rate",
                    .number,
                    default: 0,
                    minimum: 0,
                    maximum: 1,
                    "fail matching requests with this probability instead (seeded)"
                ),
                FaultAttribute("path", text: "", "path prefix to match; empty matches all"),
                FaultAttribute("method", text: "", "method to match, e.g. GET; empty matches all"),
            ]
        case .stripHeader:
            return [
                FaultAttribute(
                    "header",
                    text: "Last-Event-ID",
                    "the request header removed (any case), e.g. Last-Event-ID, Authorization, Upgrade, Cache-Control"
                ),
                FaultAttribute("path", text: "", "path prefix to match; empty matches all"),
                FaultAttribute("method", text: "", "method to match, e.g. GET; empty matches all"),
            ]
        case .delayRequests:
            return [
                FaultAttribute("delay", .milliseconds, "how long each matching request is held"),
                FaultAttribute("path", text: "", "path prefix to match; empty matches all"),
                FaultAttribute("method", text: "", "method to match, e.g. GET; empty matches all"),
            ]
        case .latency:
            return [
                FaultAttribute("latency", .milliseconds, "delay added to every chunk"),
                FaultAttribute(
                    "jitter",
                    .milliseconds,
                    "the delay varies uniformly by up to ± this much; order is kept"
                ),
            ]
        case .bandwidth:
            return [
                FaultAttribute("rate", .kilobytesPerSecond, "sustained rate; 0 pauses the direction until lifted"),
                FaultAttribute("burst", .bytes, "bytes that may pass at once after an idle spell"),
            ]
        case .slicer:
            return [
                FaultAttribute("average_size", .bytes, default: 1, minimum: 1, "average piece size"),
                FaultAttribute(
                    "size_variation",
                    .bytes,
                    "pieces vary by up to ± this much; must be below average_size"
                ),
                FaultAttribute("delay", .microseconds, "pause after each piece"),
            ]
        case .slowClose:
            return [FaultAttribute("delay", .milliseconds, "how long the close (FIN) is held back")]
        case .limitData:
            return [FaultAttribute("bytes", .bytes, "bytes forwarded before the connection is closed")]
        case .timeout:
            return [
                FaultAttribute("timeout", .milliseconds, "close after this long without incoming data; 0 never closes")
            ]
        case .limitTime:
            return [FaultAttribute("lifetime", .milliseconds, "close a connection once it has been open this long")]
        case .idleTimeout:
            return [
                FaultAttribute(
                    "timeout",
                    .milliseconds,
                    default: 60_000,
                    minimum: 1,
                    "close after this long without a byte either way"
                ),
                FaultAttribute(
                    "preset",
                    text: "",
                    choices: [""] + IdleTimeoutPreset.allCases.map(\.rawValue),
                    "an intermediary's documented idle timeout, which replaces timeout"
                ),
                FaultAttribute("close", text: "fin", choices: ["fin", "reset"], "how the connection is closed"),
            ]
        case .resetPeer:
            return [FaultAttribute("timeout", .milliseconds, "wait after the first data before the reset")]
        case .packetLoss:
            return Self.lossAttributes(rate: 0.1, unit: "chunk", dropped: "dropped")
        case .tcpLoss:
            return Self.lossAttributes(rate: 0.01, unit: "segment", dropped: "lost") + [
                FaultAttribute("segment_size", .bytes, default: 1448, minimum: 1, "bytes per segment (the MSS)")
            ]
        case .slowOpen:
            return [FaultAttribute("delay", .milliseconds, "wait before connecting to the server")]
        case .bufferStream:
            return [
                FaultAttribute(
                    "bytes",
                    .bytes,
                    default: 4096,
                    maximum: 1_048_576,
                    "release exactly this many bytes once they are held (nginx: 4096 or 8192); 0: never by size"
                ),
                FaultAttribute(
                    "interval",
                    .milliseconds,
                    "release everything held this long after the first byte was held; 0: never by time"
                ),
            ]
        case .cutStream:
            return [
                FaultAttribute("events", .count, default: 10, "events let through before the cut"),
                FaultAttribute(
                    "rate",
                    .number,
                    default: 0,
                    minimum: 0,
                    maximum: 1,
                    "cut at each event with this probability instead (seeded)"
                ),
                FaultAttribute(
                    "at",
                    text: "mid_event",
                    choices: ["mid_event", "after_event"],
                    "cut halfway through the next event's bytes, or between events"
                ),
                FaultAttribute("close", text: "fin", choices: ["fin", "reset"], "how the connection is closed"),
            ]
        case .dropEvents:
            return [
                FaultAttribute(
                    "rate",
                    .number,
                    default: 0.1,
                    minimum: 0,
                    maximum: 1,
                    "the chance each event is dropped (seeded, per connection)"
                ),
                FaultAttribute("every", .count, "drop every Nth event instead; 0: use rate"),
            ]
        }
    }

    /// The Gilbert–Elliott pair `packet_loss` and `tcp_loss` share (``ChunkLoss``): `loss_rate` and `correlation`.
    private static func lossAttributes(rate: Double, unit: String, dropped: String) -> [FaultAttribute] {
        [
            FaultAttribute(
                "loss_rate",
                .number,
                default: rate,
                minimum: 0,
                maximum: 1,
                "the chance each \(unit) is \(dropped) (seeded, per connection and direction)"
            ),
            FaultAttribute(
                "correlation",
                .number,
                default: 0,
                minimum: 0,
                maximum: 1,
                "extra chance a \(unit) is \(dropped) right after a \(dropped) one (burst loss)"
            ),
        ]
    }

    /// One line on what the type does, for `squall faults` and the README.
    public var summary: String {
        switch self {
        case .noop: return "passes everything through"
        case .latency: return "delays every chunk, measured from when the proxy received it; order is kept"
        case .bandwidth: return "token-bucket rate limit; rate 0 pauses the direction, holding data until lifted"
        case .slicer: return "cuts chunks into small pieces with a pause after each"
        case .slowClose: return "holds back the close (FIN) of the direction"
        case .limitData: return "forwards a number of bytes, then closes the connection"
        case .timeout: return "drops all data; closes after a spell without incoming data (0: never); lifting it closes"
        case .limitTime: return "closes the connection once it is a given age, whatever the traffic"
        case .idleTimeout:
            return
                "closes (FIN or RST) after a spell with no byte either way, as load balancers do; data passes untouched"
        case .resetPeer: return "resets (RST) the connection on its first data in this direction"
        case .blackhole: return "keeps the socket open but delivers nothing, no FIN (half-open); lifting it closes"
        case .down: return "refuses new connections and closes live ones while present"
        case .refuse: return "accepts, then resets the connection at once without contacting the server"
        case .slowOpen: return "waits before connecting to the server"
        case .connectBlackhole: return "accepts and never connects to the server nor answers"
        case .blockUpgrade:
            return "blocks WebSocket upgrade requests: reject, strip, reset, hang, blackhole or buffer after 101"
        case .dropPings: return "swallows WebSocket ping and pong frames in both directions"
        case .closeAfterFrames: return "after N data frames, sends a close frame with a code (1006: cuts TCP)"
        case .delayFrames: return "delays each WebSocket frame, keeping the order"
        case .failRequests:
            return
                "answers matching HTTP requests with an error status, or hangs them (every Nth, or at a seeded rate)"
        case .delayRequests: return "holds matching HTTP requests before forwarding them"
        case .stripHeader: return "forwards matching HTTP requests without a named header (Last-Event-ID by default)"
        case .packetLoss:
            return "drops whole chunks at random (Toxiproxy's packet_loss): bytes vanish from the TCP stream"
        case .tcpLoss:
            return "loses segments as TCP sees it: each lost one stalls the stream for a retransmission timeout"
        case .bufferStream:
            return
                "holds an event stream's events until a buffer fills (or a time passes, or the stream ends), as nginx"
        case .cutStream:
            return "cuts an event stream's connection after N events (or at a seeded rate), mid-event or between"
        case .dropEvents: return "drops whole events from an event stream, every Nth or at a seeded rate"
        }
    }

    /// Whether lifting the fault closes the connections it acted on, because it dropped bytes and the stream can no
    /// longer be trusted.
    public var closesWhenLifted: Bool {
        self == .timeout || self == .blackhole
    }
}
