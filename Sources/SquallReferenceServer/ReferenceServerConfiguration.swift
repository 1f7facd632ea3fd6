/// How the job-progress server listens and keeps its WebSocket and event-stream lines alive.
///
/// Durations are real time; a scenario that runs the seeds' timings fast plays them at its `timeScale`, the same
/// factor its clients use (`ScenarioClock.played(_:)`).
public struct ReferenceServerConfiguration: Sendable, Hashable {
    /// Where to listen; default `127.0.0.1`.
    public var host: String
    /// The port; default 0 (a free one, see ``ReferenceServer/localAddress``).
    public var port: Int
    /// How often the server pings each WebSocket; default 10 s.
    public var pingInterval: Duration
    /// A WebSocket that answered no ping for this long is closed (1001, `pong timeout`); default 25 s.
    public var pongTimeout: Duration
    /// A WebSocket that sends no `ready` within this is closed (1008); default 10 s.
    public var readyTimeout: Duration
    /// How long a finished job (and its messages) stays readable so late pollers still see the end; default 5 min.
    public var retention: Duration
    /// After the server sends a close frame, how long it waits for the client's; default 2 s.
    public var closeTimeout: Duration
    /// The largest request body accepted; default 64 KiB.
    public var maximumBodySize: Int
    /// Connections the kernel queues before the server accepts them; default 4096 (Linux's `somaxconn`, and what
    /// production servers ask for). A short queue drops the SYNs of a reconnect storm, and a dropped SYN is retried
    /// only after a second.
    public var listenBacklog: Int = 4_096
    /// A connection that sends nothing for this long is closed — one that connected and never spoke, an idle
    /// keep-alive connection, a WebSocket whose client stopped answering pings (pongs count); default 60 s, longer
    /// than the default pong timeout so that one decides first; a scenario keeps it at least twice the pong timeout.
    /// An event stream is exempt: its client says nothing after its request while the server writes.
    public var idleTimeout: Duration = .seconds(60)
    /// The reconnection time an event stream (`GET /sse/progress`) tells its client in its first block (`retry:`);
    /// default 1 s. Its keep-alive comments go out every ``pingInterval``.
    public var eventStreamRetry: Duration = .seconds(1)
    /// On shutdown, how long open connections get to finish (a stream's close handshake) before they are closed;
    /// default 1 s.
    public var drainDeadline: Duration = .seconds(1)

    /// Creates a configuration; every value has the default documented on its property.
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        pingInterval: Duration = .seconds(10),
        pongTimeout: Duration = .seconds(25),
        readyTimeout: Duration = .seconds(10),
        retention: Duration = .seconds(300),
        closeTimeout: Duration = .seconds(2),
        maximumBodySize: Int = 65_536
    ) {
        self.host = host
        self.port = port
        self.pingInterval = pingInterval
        self.pongTimeout = pongTimeout
        self.readyTimeout = readyTimeout
        self.retention = retention
        self.closeTimeout = closeTimeout
        self.maximumBodySize = maximumBodySize
    }
}
