import SquallReferenceProtocol

/// One progress stream's protocol as a value: waits for `ready`, answers `ready_ack` and subscribes after the
/// client's `lastSeq`, forwards messages, pings on an interval, closes on the job's final message, on a restart or a
/// shutdown, on a missing `ready` or pong, and ends when the client's close (or EOF) arrives.
///
/// ``ProgressStreamSession`` performs its actions over a real WebSocket; Squall's simulator performs them on a
/// virtual clock. Times are milliseconds on whatever clock the caller uses.
package struct ProgressStreamStateMachine: Sendable {
    /// Something that happened on the stream.
    package enum Event: Sendable, Hashable {
        /// The keep-alive clock ticked (every ``tickInterval``).
        case tick(now: Double)
        /// A text frame from the client.
        case text(String)
        /// A ping from the client.
        case ping(payload: [UInt8])
        /// A pong from the client.
        case pong(now: Double)
        /// The client's close frame (its code, if any).
        case peerClose(code: Int?)
        /// The client's side ended without a close frame (EOF), or the connection failed.
        case peerGone(reason: String)
        /// A message of the job, in `seq` order.
        case message(ProgressMessage)
        /// The server ends the stream while the job runs.
        case serverEnded(ProgressStreamEnd)
        /// The close timeout after our close frame passed.
        case closeTimedOut
    }

    /// A frame to send.
    package enum Frame: Sendable, Hashable {
        /// `{"type":"ready_ack","jobId":…,"lastSeq":N}`.
        case readyAck(lastSeq: Int)
        /// A progress message.
        case message(ProgressMessage)
        /// A ping.
        case ping
        /// A pong with the ping's payload.
        case pong(payload: [UInt8])
        /// A close frame.
        case close(code: Int, reason: String)
    }

    /// Something the runtime must do.
    package enum Action: Sendable, Hashable {
        /// Write a frame.
        case send(Frame)
        /// The client is ready: report the stream open and subscribe to the job after `lastSeq`.
        case subscribe(after: Int)
        /// Our close frame is out: wait at most the close timeout for the client's, then feed `closeTimedOut`.
        case startCloseTimer
        /// The stream is over (close the socket, unsubscribe, report `stream_closed` with the reason).
        case finish(reason: String)
    }

    private enum State: Sendable, Hashable {
        /// Open; `ready` received or not.
        case open(ready: Bool)
        /// Our close frame is out, sent for `reason`.
        case closing(reason: String)
        /// Over.
        case finished
    }

    private let configuration: ReferenceServerConfiguration
    private let openedAt: Double
    private var lastPong: Double
    private var nextPing: Double
    private var state = State.open(ready: false)

    /// A stream opened at `now`.
    package init(configuration: ReferenceServerConfiguration, now: Double) {
        self.configuration = configuration
        self.openedAt = now
        self.lastPong = now
        self.nextPing = now + configuration.pingInterval.milliseconds
    }

    /// How often the runtime feeds ``Event/tick(now:)``.
    package var tickInterval: Duration {
        min(self.configuration.pingInterval, self.configuration.readyTimeout)
    }

    /// Whether the stream is over.
    package var isFinished: Bool { self.state == .finished }

    /// Handles one event; returns what to do, in order.
    package mutating func handle(_ event: Event) -> [Action] {
        switch (self.state, event) {
        case (.finished, _):
            return []

        case (.open(let ready), .tick(let now)):
            if !ready, now - self.openedAt >= self.configuration.readyTimeout.milliseconds {
                return self.close(code: 1008, "no ready within \(IntervalText.format(self.configuration.readyTimeout))")
            }
            if now - self.lastPong >= self.configuration.pongTimeout.milliseconds {
                return self.close(code: 1001, "pong timeout")
            }
            guard now >= self.nextPing else { return [] }
            self.nextPing = now + self.configuration.pingInterval.milliseconds
            return [.send(.ping)]
        case (.closing, .tick):
            return []

        case (.open(ready: false), .text(let text)):
            guard let ready = try? ProtocolJSON.decode(HandshakeMessage.self, from: text.utf8), ready.type == .ready,
                ready.lastSeq >= 0
            else {
                return self.close(code: 1008, "expected {\"type\":\"ready\",\"lastSeq\":N} first")
            }
            self.state = .open(ready: true)
            return [.send(.readyAck(lastSeq: ready.lastSeq)), .subscribe(after: ready.lastSeq)]
        case (.open(ready: true), .text), (.closing, .text):
            return []

        case (.open, .ping(let payload)), (.closing, .ping(let payload)):
            return [.send(.pong(payload: payload))]
        case (.open, .pong(let now)), (.closing, .pong(let now)):
            self.lastPong = now
            return []

        case (.open, .peerClose(let code)):
            self.state = .finished
            return [
                .send(.close(code: code ?? 1000, reason: "")),
                .finish(reason: "client closed" + (code.map { " (\($0))" } ?? "")),
            ]
        case (.closing(let reason), .peerClose), (.closing(let reason), .peerGone),
            (.closing(let reason), .closeTimedOut):
            self.state = .finished
            return [.finish(reason: reason)]
        case (.open, .peerGone(let reason)):
            self.state = .finished
            return [.finish(reason: reason)]
        case (.open, .closeTimedOut):
            return []

        case (.open, .message(let message)):
            guard message.isFinal else { return [.send(.message(message))] }
            return [.send(.message(message))]
                + self.close(code: 1000, "job \(message.type == .complete ? "completed" : "failed")")
        case (.closing, .message):
            return []

        case (.open, .serverEnded(.shutdown)):
            return self.close(code: 1001, "server shutting down")
        case (.open, .serverEnded(.restart)):
            return self.close(code: 1012, "service restart")
        case (.closing, .serverEnded):
            return []
        }
    }

    private mutating func close(code: Int, _ reason: String) -> [Action] {
        self.state = .closing(reason: reason)
        return [.send(.close(code: code, reason: reason)), .startCloseTimer]
    }
}
