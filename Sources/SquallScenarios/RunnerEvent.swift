import SquallFaults

/// One of the runner's own events (`"source":"run"`), typed: what `squall run` and `squall sim` write, and what the
/// metrics, reports and re-checks read. Each case is one ``RunEventName``; ``fields`` writes it and
/// ``init(name:fields:)`` reads it back, the one place its keys are spelled.
public enum RunnerEvent: Sendable, Hashable {
    /// The header: the scenario as given, its seed, scale, digests, the version, cores and build, and (for a shard)
    /// which one.
    case scenario(RunHeader)
    /// A client started, with its group, strategy and job (empty when its job could not be created).
    case clientStarted(client: String, group: String, strategy: String, jobId: String)
    /// A client could not start (its job could not be created, or its program could not be started).
    case clientFailedToStart(client: String, reason: String)
    /// An external client's process started.
    case clientProcess(client: String, pid: Int, command: String)
    /// An external client's process exited by itself; `early` when before its job finished.
    case clientExited(client: String, status: String, finished: Bool, early: Bool)
    /// An external client's process was still running at the end of the run and was stopped.
    case clientTerminated(client: String, reason: String, finished: Bool)
    /// An external client (or a process of its group) ignored SIGTERM and was killed.
    case clientKilled(client: String, reason: String)
    /// Line `line` of an external client's output broke the event contract.
    case clientOutputMalformed(client: String, line: Int, reason: String, text: String)
    /// A timeline fault was applied on `groups` (`fault` as the scenario gives it, in scenario time).
    case faultApplied(
        at: String,
        step: String,
        name: String,
        type: String,
        direction: String,
        toxicity: Double,
        groups: [String],
        fault: JSONValue
    )
    /// A timeline fault (or profile) could not be applied: the proxies' errors.
    case faultNotApplied(at: String, name: String, errors: [String], fault: JSONValue?)
    /// A timeline fault was lifted (or healed at the end), having acted on `connectionsHit` connections.
    case faultLifted(name: String, connectionsHit: Int, healing: Bool)
    /// A network handoff on `groups`, which cut `connectionsCut` live connections.
    case handoff(
        at: String,
        step: String,
        mode: String,
        blackout: String,
        to: String?,
        groups: [String],
        connectionsCut: Int
    )
    /// A network profile change on `groups` (nil: none).
    case profile(at: String, step: String, profile: String?, groups: [String])
    /// Clients were suspended for `lasting` (scenario time, as written).
    case clientsSuspended(at: String, step: String, clients: [String], lasting: String)
    /// The reference server restarted its WebSocket side, refusing upgrades for `downtime`.
    case serverRestart(at: String, step: String, downtime: String)
    /// An external server was started.
    case serverStarted(command: String, pid: Int, url: String)
    /// An external server answered its ready path.
    case serverReady(url: String, readyPath: String, status: Int)
    /// An external server exited before the run ended.
    case serverExited(status: String, early: Bool)
    /// An external server's publications for a job could not be read back.
    case publicationsUnknown(jobId: String, status: Int?, reason: String)
    /// Once a second: the harness's lag samples by probe, the writer's backlog, the harness's CPU, the machine's,
    /// the app's by process-group leader, and Squall's resident memory in MB (`rssMB`, where the system says).
    case harnessLag(
        lagMs: [String: [Double]],
        writerBacklog: Int,
        cpu: Double,
        machineCpu: Double?,
        appCpu: [String: Double],
        residentMB: Double?
    )
    /// The run ended, and why.
    case runEnded(reason: String, interrupted: Bool)

    /// The event's name.
    public var name: RunEventName {
        switch self {
        case .scenario: .scenario
        case .clientStarted: .clientStarted
        case .clientFailedToStart: .clientFailedToStart
        case .clientProcess: .clientProcess
        case .clientExited: .clientExited
        case .clientTerminated: .clientTerminated
        case .clientKilled: .clientKilled
        case .clientOutputMalformed: .clientOutputMalformed
        case .faultApplied: .faultApplied
        case .faultNotApplied: .faultNotApplied
        case .faultLifted: .faultLifted
        case .handoff: .handoff
        case .profile: .profile
        case .clientsSuspended: .clientsSuspended
        case .serverRestart: .serverRestart
        case .serverStarted: .serverStarted
        case .serverReady: .serverReady
        case .serverExited: .serverExited
        case .publicationsUnknown: .publicationsUnknown
        case .harnessLag: .harnessLag
        case .runEnded: .runEnded
        }
    }

    /// The client it concerns, for the events about one client.
    public var client: String? {
        switch self {
        case .clientStarted(let client, _, _, _), .clientFailedToStart(let client, _), .clientProcess(let client, _, _),
            .clientExited(let client, _, _, _), .clientTerminated(let client, _, _), .clientKilled(let client, _),
            .clientOutputMalformed(let client, _, _, _):
            client
        case .scenario, .faultApplied, .faultNotApplied, .faultLifted, .handoff, .profile, .clientsSuspended,
            .serverRestart, .serverStarted, .serverReady, .serverExited, .publicationsUnknown, .harnessLag, .runEnded:
            nil
        }
    }

    /// The timeline entry it records (`step`), for the events of timeline steps.
    public var step: String? {
        switch self {
        case .faultApplied(_, let step, _, _, _, _, _, _), .handoff(_, let step, _, _, _, _, _),
            .profile(_, let step, _, _), .clientsSuspended(_, let step, _, _), .serverRestart(_, let step, _):
            step
        case .scenario, .clientStarted, .clientFailedToStart, .clientProcess, .clientExited, .clientTerminated,
            .clientKilled, .clientOutputMalformed, .faultNotApplied, .faultLifted, .serverStarted, .serverReady,
            .serverExited, .publicationsUnknown, .harnessLag, .runEnded:
            nil
        }
    }

    /// The event's fields after `time`, `source` and `event`, in the order they are written.
    public var fields: [(String, JSONValue)] {
        func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
        func integer(_ value: Int) -> JSONValue { .number(Double(value)) }
        switch self {
        case .scenario(let header):
            return header.fields
        case .clientStarted(let client, let group, let strategy, let jobId):
            return [
                ("client", .string(client)), ("group", .string(group)), ("strategy", .string(strategy)),
                ("jobId", .string(jobId)),
            ]
        case .clientFailedToStart(let client, let reason):
            return [("client", .string(client)), ("reason", .string(reason))]
        case .clientProcess(let client, let pid, let command):
            return [("client", .string(client)), ("pid", integer(pid)), ("command", .string(command))]
        case .clientExited(let client, let status, let finished, let early):
            return [
                ("client", .string(client)), ("status", .string(status)), ("finished", .bool(finished)),
                ("early", .bool(early)),
            ]
        case .clientTerminated(let client, let reason, let finished):
            return [("client", .string(client)), ("reason", .string(reason)), ("finished", .bool(finished))]
        case .clientKilled(let client, let reason):
            return [("client", .string(client)), ("reason", .string(reason))]
        case .clientOutputMalformed(let client, let line, let reason, let text):
            return [
                ("client", .string(client)), ("line", integer(line)), ("reason", .string(reason)),
                ("text", .string(text)),
            ]
        case .faultApplied(let at, let step, let name, let type, let direction, let toxicity, let groups, let fault):
            return [
                ("at", .string(at)), ("step", .string(step)), ("name", .string(name)), ("type", .string(type)),
                ("direction", .string(direction)), ("toxicity", .number(toxicity)), ("groups", strings(groups)),
                ("fault", fault),
            ]
        case .faultNotApplied(let at, let name, let errors, let fault):
            var fields: [(String, JSONValue)] = [
                ("at", .string(at)), ("name", .string(name)), ("errors", strings(errors)),
            ]
            if let fault { fields.append(("fault", fault)) }
            return fields
        case .faultLifted(let name, let connectionsHit, let healing):
            return [("name", .string(name)), ("connectionsHit", integer(connectionsHit)), ("healing", .bool(healing))]
        case .handoff(let at, let step, let mode, let blackout, let to, let groups, let connectionsCut):
            return [
                ("at", .string(at)), ("step", .string(step)), ("mode", .string(mode)), ("blackout", .string(blackout)),
                ("to", to.map { .string($0) } ?? .null), ("groups", strings(groups)),
                ("connectionsCut", integer(connectionsCut)),
            ]
        case .profile(let at, let step, let profile, let groups):
            return [
                ("at", .string(at)), ("step", .string(step)), ("profile", profile.map { .string($0) } ?? .null),
                ("groups", strings(groups)),
            ]
        case .clientsSuspended(let at, let step, let clients, let lasting):
            return [
                ("at", .string(at)), ("step", .string(step)), ("clients", strings(clients)), ("for", .string(lasting)),
            ]
        case .serverRestart(let at, let step, let downtime):
            return [("at", .string(at)), ("step", .string(step)), ("downtime", .string(downtime))]
        case .serverStarted(let command, let pid, let url):
            return [("command", .string(command)), ("pid", integer(pid)), ("url", .string(url))]
        case .serverReady(let url, let readyPath, let status):
            return [("url", .string(url)), ("readyPath", .string(readyPath)), ("status", integer(status))]
        case .serverExited(let status, let early):
            return [("status", .string(status)), ("early", .bool(early))]
        case .publicationsUnknown(let jobId, let status, let reason):
            return [("jobId", .string(jobId)), ("status", status.map(integer) ?? .null), ("reason", .string(reason))]
        case .harnessLag(let lagMs, let writerBacklog, let cpu, let machineCpu, let appCpu, let residentMB):
            var fields: [(String, JSONValue)] = [
                ("lagMs", .object(lagMs.mapValues { .array($0.map { .number($0) }) })),
                ("writerBacklog", integer(writerBacklog)), ("cpu", .number(cpu)),
            ]
            if let machineCpu { fields.append(("machineCpu", .number(machineCpu))) }
            if !appCpu.isEmpty { fields.append(("appCpu", .object(appCpu.mapValues { .number($0) }))) }
            if let residentMB { fields.append(("rssMB", .number(residentMB))) }
            return fields
        case .runEnded(let reason, let interrupted):
            return [("reason", .string(reason)), ("interrupted", .bool(interrupted))]
        }
    }
}
