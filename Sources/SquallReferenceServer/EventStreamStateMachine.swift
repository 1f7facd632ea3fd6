import SquallReferenceProtocol

/// One client's progress stream over Server-Sent Events as a value: it opens with the reconnection time and the
/// replay after the client's `Last-Event-ID`, forwards each message as an event whose id is its `seq`, sends a
/// keep-alive comment every ping interval, and ends after the job's final message, on a restart or a shutdown, or
/// when the client goes.
///
/// ``EventStreamSession`` performs its actions over a real HTTP response; Squall's simulator performs them on a
/// virtual clock. Times are milliseconds on whatever clock the caller uses.
package struct EventStreamStateMachine: Sendable {
    /// Something that happened on the stream.
    package enum Event: Sendable, Hashable {
        /// The keep-alive clock ticked (every ``tickInterval``).
        case tick(now: Double)
        /// A message of the job, in `seq` order.
        case message(ProgressMessage)
        /// The server ends the stream while the job runs.
        case serverEnded(ProgressStreamEnd)
        /// The client's side ended, or the connection failed.
        case peerGone(reason: String)
        /// The job had already ended when the stream subscribed: after its replay nothing more comes.
        case jobAlreadyEnded
    }

    /// A block of the event stream to send.
    package enum Block: Sendable, Hashable {
        /// `retry: N`, the reconnection time the client should use.
        case retry(milliseconds: Int)
        /// A progress message: `id: seq`, its JSON as `data:`.
        case message(ProgressMessage)
        /// `: keep-alive`.
        case keepAlive

        /// Whether the block dispatches an event (it has data): only a message does.
        package var isEvent: Bool {
            switch self {
            case .message: true
            case .retry, .keepAlive: false
            }
        }

        /// The block's bytes as the server writes them (one rule for the real server and the simulator).
        package var bytes: [UInt8] {
            switch self {
            case .retry(let milliseconds):
                ServerSentEvent.retry(milliseconds: milliseconds)
            case .message(let message):
                ServerSentEvent(data: String(decoding: message.jsonBytes, as: UTF8.self))
                    .encoded(id: String(message.seq))
            case .keepAlive:
                ServerSentEvent.comment("keep-alive")
            }
        }
    }

    /// Something the runtime must do.
    package enum Action: Sendable, Hashable {
        /// Write a block.
        case send(Block)
        /// Report the stream open and subscribe to the job after `lastSeq`.
        case subscribe(after: Int)
        /// The stream is over: end the response, close the connection, unsubscribe, report `stream_closed` with
        /// the reason.
        case finish(reason: String)
    }

    private let configuration: ReferenceServerConfiguration
    private var nextKeepAlive: Double
    private var isFinishedFlag = false
    /// The sequence number the stream resumes after: the client's `Last-Event-ID` when it is one, else 0.
    package let lastSeq: Int

    /// A stream opened at `now` by a request carrying `lastEventId` (`Last-Event-ID`, nil when absent).
    package init(configuration: ReferenceServerConfiguration, lastEventId: String?, now: Double) {
        self.configuration = configuration
        self.nextKeepAlive = now + configuration.pingInterval.milliseconds
        self.lastSeq = Self.sequenceNumber(lastEventId)
    }

    /// The sequence number an event id names: a non-negative integer, else 0 (replay everything).
    package static func sequenceNumber(_ lastEventId: String?) -> Int {
        lastEventId.flatMap { Int($0.trimmingASCIISpaces) }.flatMap { $0 >= 0 ? $0 : nil } ?? 0
    }

    /// How often the runtime feeds ``Event/tick(now:)``.
    package var tickInterval: Duration { self.configuration.pingInterval }

    /// Whether the stream is over.
    package var isFinished: Bool { self.isFinishedFlag }

    /// What to do first: tell the client its reconnection time, then subscribe after its last event.
    package func start() -> [Action] {
        [
            .send(.retry(milliseconds: Int(self.configuration.eventStreamRetry.milliseconds))),
            .subscribe(after: self.lastSeq),
        ]
    }

    /// Handles one event; returns what to do, in order.
    package mutating func handle(_ event: Event) -> [Action] {
        guard !self.isFinishedFlag else { return [] }
        switch event {
        case .tick(let now):
            guard now >= self.nextKeepAlive else { return [] }
            self.nextKeepAlive = now + self.configuration.pingInterval.milliseconds
            return [.send(.keepAlive)]
        case .message(let message):
            guard message.isFinal else { return [.send(.message(message))] }
            return [.send(.message(message))] + self.finish("job \(message.type == .complete ? "completed" : "failed")")
        case .serverEnded(.shutdown):
            return self.finish("server shutting down")
        case .serverEnded(.restart):
            return self.finish("service restart")
        case .peerGone(let reason):
            return self.finish(reason)
        case .jobAlreadyEnded:
            return self.finish("job already ended")
        }
    }

    private mutating func finish(_ reason: String) -> [Action] {
        self.isFinishedFlag = true
        return [.finish(reason: reason)]
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces and tabs.
    fileprivate var trimmingASCIISpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return self[first...last]
    }
}
