import SquallReferenceProtocol

/// One thing a hybrid client did, in the NDJSON contract every client Squall checks follows (the reference client
/// and external ones alike): one JSON object per line with `time` (milliseconds since the Unix epoch), `event`,
/// `client`, `jobId`, and the event's own fields.
///
/// ```json
/// {"time":1763900000123.456,"source":"client","client":"c1","event":"delivered","jobId":"job-1","seq":3,"via":"websocket","latencyMs":4.2}
/// ```
public struct ClientEvent: Sendable, Hashable {
    /// When it happened, in milliseconds since the Unix epoch.
    public var time: Double
    /// Which client.
    public var clientId: String
    /// The job it follows.
    public var jobId: String
    /// What happened.
    public var kind: Kind

    /// The events of the contract.
    public enum Kind: Sendable, Hashable {
        /// `connect_attempt`: opening a WebSocket; `attempt` 0 is the first try or a probe, then 1, 2, … for
        /// reconnects.
        case connectAttempt(attempt: Int, probe: Bool)
        /// `connected`: the push link opened (the upgrade succeeded, or the event stream answered 200), `via` the
        /// transport of its rung (written only when it is not `websocket`, so the seeds' logs read as before).
        case connected(attempt: Int, probe: Bool, via: HybridClientStateMachine.Transport)
        /// `connect_failed`: the WebSocket could not be opened (refused, upgrade rejected or timed out).
        case connectFailed(reason: String)
        /// `closed`: an open WebSocket ended; `code` is the close code when a close frame arrived.
        case closed(code: Int?, reason: String)
        /// `reconnect_attempt`: reconnect try `attempt` will start after `delayMs`.
        case reconnectAttempt(attempt: Int, delayMs: Double)
        /// `fallback`: the client switched to polling.
        case fallback(reason: String)
        /// `stepped_down`: the client's push rung failed its tries and it moves to the next push rung `to`
        /// (`sse` after `websocket`); a step to polling is a `fallback`.
        case steppedDown(to: HybridClientStateMachine.Transport, reason: String)
        /// `poll`: a poll answered `status` (nil when the request failed before a status) with `messages` new
        /// messages.
        case poll(status: Int?, messages: Int, error: String?)
        /// `state_sync`: after a reconnect, the job state was fetched (try `attempt`).
        case stateSync(attempt: Int, status: Int?, messages: Int, error: String?)
        /// `recovered`: a probe while polling opened a WebSocket; the client is back on it.
        case recovered
        /// `delivered`: message `seq` reached the app, via WebSocket, SSE or polling, `latencyMs` after the server
        /// stamped it.
        case delivered(
            seq: Int,
            via: HybridClientStateMachine.Transport,
            latencyMs: Double,
            type: ProgressMessage.MessageType
        )
        /// `duplicate_dropped`: message `seq` arrived again and was not delivered.
        case duplicateDropped(seq: Int)
        /// `finished`: the job is over for this client (`completed` or `failed`).
        case finished(outcome: HybridClientStateMachine.Outcome)
        /// `stopped`: the client was stopped before its job finished (the run ended).
        case stopped(reason: String)
        /// `suspended`: the app was frozen (background suspension) for `forMs`.
        case suspended(forMs: Double)
        /// `resumed`: the app runs again.
        case resumed
    }

    /// Creates an event.
    public init(time: Double, clientId: String, jobId: String, kind: Kind) {
        self.time = time
        self.clientId = clientId
        self.jobId = jobId
        self.kind = kind
    }

    /// The event's name in the contract.
    public var eventName: ClientEventName {
        self.kind.eventName
    }
}

extension ClientEvent.Kind {
    /// The kind's name in the contract.
    public var eventName: ClientEventName {
        switch self {
        case .connectAttempt: .connectAttempt
        case .connected: .connected
        case .connectFailed: .connectFailed
        case .closed: .closed
        case .reconnectAttempt: .reconnectAttempt
        case .fallback: .fallback
        case .steppedDown: .steppedDown
        case .poll: .poll
        case .stateSync: .stateSync
        case .recovered: .recovered
        case .delivered: .delivered
        case .duplicateDropped: .duplicateDropped
        case .finished: .finished
        case .stopped: .stopped
        case .suspended: .suspended
        case .resumed: .resumed
        }
    }
}

extension ClientEvent {

    /// The event's name in NDJSON.
    public var name: String {
        self.eventName.rawValue
    }

    /// The event as one NDJSON line (without the newline), keys in a fixed order.
    public var jsonLine: String {
        EventField.line(self.fields)
    }

    /// The line's fields, typed, in their order: `time`, `source`, `client`, `event`, `jobId`, then the event's own.
    package var fields: [(String, EventField)] {
        var fields: [(String, EventField)] = [
            ("time", .number(self.time)), ("source", .string("client")), ("client", .string(self.clientId)),
            ("event", .string(self.name)), ("jobId", .string(self.jobId)),
        ]
        func optional(_ value: Int?) -> EventField { value.map { .integer($0) } ?? .null }
        switch self.kind {
        case .connectAttempt(let attempt, let probe):
            fields += [("attempt", .integer(attempt)), ("probe", .bool(probe))]
        case .connected(let attempt, let probe, let via):
            fields += [("attempt", .integer(attempt)), ("probe", .bool(probe))]
            if via != .websocket { fields.append(("via", .string(via.rawValue))) }
        case .connectFailed(let reason), .fallback(let reason), .stopped(let reason):
            fields += [("reason", .string(reason))]
        case .closed(let code, let reason):
            fields += [("code", optional(code)), ("reason", .string(reason))]
        case .steppedDown(let transport, let reason):
            fields += [("to", .string(transport.rawValue)), ("reason", .string(reason))]
        case .reconnectAttempt(let attempt, let delayMs):
            fields += [("attempt", .integer(attempt)), ("delayMs", .number(delayMs))]
        case .poll(let status, let messages, let error):
            fields += [("status", optional(status)), ("messages", .integer(messages))]
            if let error { fields.append(("error", .string(error))) }
        case .stateSync(let attempt, let status, let messages, let error):
            fields += [("attempt", .integer(attempt)), ("status", optional(status)), ("messages", .integer(messages))]
            if let error { fields.append(("error", .string(error))) }
        case .recovered, .resumed:
            break
        case .suspended(let forMs):
            fields += [("forMs", .number(forMs))]
        case .delivered(let seq, let via, let latencyMs, let type):
            fields += [
                ("seq", .integer(seq)), ("via", .string(via.rawValue)), ("latencyMs", .number(latencyMs)),
                ("type", .string(type.rawValue)),
            ]
        case .duplicateDropped(let seq):
            fields += [("seq", .integer(seq))]
        case .finished(let outcome):
            fields += [("outcome", .string(outcome.rawValue))]
        }
        return fields
    }
}
