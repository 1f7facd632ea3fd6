import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer

/// One line of a run's event log, typed: a client's event of the contract, the server's, the runner's own, or one
/// Squall does not know (kept by name, never counted).
///
/// ``init(_:)`` is the one place a logged line's fields are read by name; everything downstream switches over these
/// cases, so a new event is a compile error wherever it has to be handled.
public enum RunEvent: Sendable, Hashable {
    /// A client's event: the reference client's, or an external client's read leniently (a field the contract does
    /// not require is defaulted: `attempt` 0, `reason` "", `via` websocket, `latencyMs` 0, `type` progress).
    case client(ClientEvent)
    /// The job-progress server's event (also the publications the runner read back from an external server).
    case server(ReferenceServerEvent)
    /// The runner's own (boxed: its largest cases would otherwise make every event as big).
    indirect case run(RunnerEvent)
    /// A line Squall does not know: another source, or a name outside the vocabulary.
    case unknown(source: String, name: String)

    /// When it happened (ms since the epoch, or virtual ms in a simulation); nil for ``unknown(source:name:)``,
    /// whose record holds it.
    public var time: Double? {
        switch self {
        case .client(let event): event.time
        case .server(let event): event.time
        case .run, .unknown: nil
        }
    }

    /// Decodes a record.
    public init(_ record: EventRecord) {
        switch record.source {
        case "client":
            guard let name = ClientEventName(rawValue: record.event) else {
                self = .unknown(source: record.source, name: record.event)
                return
            }
            self = .client(
                ClientEvent(
                    time: record.time,
                    clientId: record.client ?? "",
                    jobId: record.string("jobId") ?? "",
                    kind: Self.clientKind(name, record)
                )
            )
        case "server":
            guard let kind = Self.serverKind(record) else {
                self = .unknown(source: record.source, name: record.event)
                return
            }
            self = .server(ReferenceServerEvent(time: record.time, jobId: record.string("jobId") ?? "", kind: kind))
        case "run":
            guard let name = RunEventName(rawValue: record.event) else {
                self = .unknown(source: record.source, name: record.event)
                return
            }
            self = .run(Self.runnerEvent(name, record))
        default:
            self = .unknown(source: record.source, name: record.event)
        }
    }

    private static func clientKind(_ name: ClientEventName, _ record: EventRecord) -> ClientEvent.Kind {
        let reason = record.string("reason") ?? ""
        let attempt = record.integer("attempt") ?? 0
        switch name {
        case .connectAttempt: return .connectAttempt(attempt: attempt, probe: record["probe"] == .bool(true))
        case .connected:
            return .connected(
                attempt: attempt,
                probe: record["probe"] == .bool(true),
                via: record.string("via").flatMap(HybridClientStateMachine.Transport.init(rawValue:)) ?? .websocket
            )
        case .connectFailed: return .connectFailed(reason: reason)
        case .closed: return .closed(code: record.integer("code"), reason: reason)
        case .reconnectAttempt: return .reconnectAttempt(attempt: attempt, delayMs: record.number("delayMs") ?? 0)
        case .fallback: return .fallback(reason: reason)
        case .steppedDown:
            return .steppedDown(
                to: record.string("to").flatMap(HybridClientStateMachine.Transport.init(rawValue:)) ?? .sse,
                reason: reason
            )
        case .poll:
            return .poll(
                status: record.integer("status"),
                messages: record.integer("messages") ?? 0,
                error: record.string("error")
            )
        case .stateSync:
            return .stateSync(
                attempt: attempt,
                status: record.integer("status"),
                messages: record.integer("messages") ?? 0,
                error: record.string("error")
            )
        case .recovered: return .recovered
        case .delivered:
            return .delivered(
                seq: record.integer("seq") ?? 0,
                via: record.string("via").flatMap(HybridClientStateMachine.Transport.init(rawValue:)) ?? .websocket,
                latencyMs: record.number("latencyMs") ?? 0,
                type: record.string("type").flatMap(ProgressMessage.MessageType.init(rawValue:)) ?? .progress
            )
        case .duplicateDropped: return .duplicateDropped(seq: record.integer("seq") ?? 0)
        case .finished:
            return .finished(
                outcome: record.string("outcome").flatMap(HybridClientStateMachine.Outcome.init(rawValue:))
                    ?? .completed
            )
        case .stopped: return .stopped(reason: reason)
        case .suspended: return .suspended(forMs: record.number("forMs") ?? 0)
        case .resumed: return .resumed
        }
    }

    private static func serverKind(_ record: EventRecord) -> ReferenceServerEvent.Kind? {
        switch record.event {
        case "job_created":
            return .jobCreated(
                totalItems: record.integer("totalItems") ?? 0,
                itemInterval: record.string("itemInterval").flatMap(IntervalText.parse) ?? .zero
            )
        case ReferenceServerEvent.publishedName:
            guard let seq = record.integer("seq") else { return nil }
            return .published(
                seq: seq,
                type: record.string("type").flatMap(ProgressMessage.MessageType.init(rawValue:)) ?? .progress
            )
        case "stream_opened": return .streamOpened(lastSeq: record.integer("lastSeq") ?? 0)
        case "stream_closed": return .streamClosed(reason: record.string("reason") ?? "")
        case "sse_opened":
            return .eventStreamOpened(
                lastSeq: record.integer("lastSeq") ?? 0,
                lastEventId: record.string("lastEventId")
            )
        case "sse_closed": return .eventStreamClosed(reason: record.string("reason") ?? "")
        case "state_served":
            return .stateServed(since: record.integer("since") ?? 0, messages: record.integer("messages") ?? 0)
        case "job_expired": return .jobExpired
        default: return nil
        }
    }

    private static func runnerEvent(_ name: RunEventName, _ record: EventRecord) -> RunnerEvent {
        func text(_ key: String) -> String { record.string(key) ?? "" }
        func strings(_ key: String) -> [String] {
            guard case .array(let values)? = record[key] else { return [] }
            return values.compactMap(\.stringValue)
        }
        func flag(_ key: String) -> Bool { record[key] == .bool(true) }
        let client = text("client")
        switch name {
        case .scenario:
            return .scenario(RunHeader(record.fieldList))
        case .clientStarted:
            return .clientStarted(
                client: client,
                group: text("group"),
                strategy: text("strategy"),
                jobId: text("jobId")
            )
        case .clientFailedToStart: return .clientFailedToStart(client: client, reason: text("reason"))
        case .clientProcess:
            return .clientProcess(client: client, pid: record.integer("pid") ?? 0, command: text("command"))
        case .clientExited:
            return .clientExited(
                client: client,
                status: text("status"),
                finished: flag("finished"),
                early: flag("early")
            )
        case .clientTerminated:
            return .clientTerminated(client: client, reason: text("reason"), finished: flag("finished"))
        case .clientKilled: return .clientKilled(client: client, reason: text("reason"))
        case .clientOutputMalformed:
            return .clientOutputMalformed(
                client: client,
                line: record.integer("line") ?? 0,
                reason: text("reason"),
                text: text("text")
            )
        case .faultApplied:
            return .faultApplied(
                at: text("at"),
                step: text("step"),
                name: text("name"),
                type: text("type"),
                direction: text("direction"),
                toxicity: record.number("toxicity") ?? 1,
                groups: strings("groups"),
                fault: record["fault"] ?? .null
            )
        case .faultNotApplied:
            return .faultNotApplied(
                at: text("at"),
                name: text("name"),
                errors: strings("errors"),
                fault: record["fault"]
            )
        case .faultLifted:
            return .faultLifted(
                name: text("name"),
                connectionsHit: record.integer("connectionsHit") ?? 0,
                healing: flag("healing")
            )
        case .handoff:
            return .handoff(
                at: text("at"),
                step: text("step"),
                mode: text("mode"),
                blackout: text("blackout"),
                to: record.string("to"),
                groups: strings("groups"),
                connectionsCut: record.integer("connectionsCut") ?? 0
            )
        case .profile:
            return .profile(
                at: text("at"),
                step: text("step"),
                profile: record.string("profile"),
                groups: strings("groups")
            )
        case .clientsSuspended:
            return .clientsSuspended(
                at: text("at"),
                step: text("step"),
                clients: strings("clients"),
                lasting: text("for")
            )
        case .serverRestart: return .serverRestart(at: text("at"), step: text("step"), downtime: text("downtime"))
        case .serverStarted:
            return .serverStarted(command: text("command"), pid: record.integer("pid") ?? 0, url: text("url"))
        case .serverReady:
            return .serverReady(url: text("url"), readyPath: text("readyPath"), status: record.integer("status") ?? 0)
        case .serverExited: return .serverExited(status: text("status"), early: flag("early"))
        case .publicationsUnknown:
            return .publicationsUnknown(jobId: text("jobId"), status: record.integer("status"), reason: text("reason"))
        case .harnessLag:
            var lags: [String: [Double]] = [:]
            if case .object(let probes)? = record["lagMs"] {
                for (probe, value) in probes {
                    guard case .array(let samples) = value else { continue }
                    lags[probe] = samples.compactMap(\.numberValue)
                }
            }
            var app: [String: Double] = [:]
            if case .object(let groups)? = record["appCpu"] {
                for (leader, value) in groups {
                    if let share = value.numberValue { app[leader] = share }
                }
            }
            return .harnessLag(
                lagMs: lags,
                writerBacklog: record.integer("writerBacklog") ?? 0,
                cpu: record.number("cpu") ?? 0,
                machineCpu: record.number("machineCpu"),
                appCpu: app,
                residentMB: record.number("rssMB")
            )
        case .runEnded: return .runEnded(reason: text("reason"), interrupted: flag("interrupted"))
        }
    }
}
