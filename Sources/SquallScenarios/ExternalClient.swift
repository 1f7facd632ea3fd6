import SquallFaults
import SquallReferenceClient

/// One client of a `command` group: a team's own client program, started with its run parameters in the
/// environment. Its standard output must follow the client event contract (NDJSON, one event per line); each
/// valid line goes into the run's log as a client event, each invalid one is recorded as a
/// `client_output_malformed` run event with its line number and never stops the run. An early exit, and a process
/// still running when the run ends, are recorded too.
struct ExternalClient: Sendable {
    /// The client id (`group-n`).
    let id: String
    /// Its group.
    let group: String
    /// The program.
    let command: ExternalCommand
    /// The environment the contract documents.
    let environment: [String: String]
    /// The job it follows.
    let jobId: String

    /// The events of the client contract.
    /// Every name the contract knows, for error messages.
    static let eventNames = ClientEventName.allCases.map(\.rawValue).sorted()

    /// Creates the client's parameters.
    init(
        id: String,
        group: String,
        command: ExternalCommand,
        serverURL: String,
        jobId: String,
        token: String,
        seed: UInt64,
        timeScale: Double
    ) {
        self.id = id
        self.group = group
        self.command = command
        self.jobId = jobId
        self.environment = command.environment.merging([
            "SQUALL_SERVER_URL": serverURL,
            "SQUALL_JOB_ID": jobId,
            "SQUALL_TOKEN": token,
            "SQUALL_CLIENT_ID": id,
            "SQUALL_SEED": "\(seed)",
            "SQUALL_TIME_SCALE": JSONValue.format(timeScale),
        ]) { _, squall in squall }
    }

    /// Runs the process until it exits or the task is cancelled (the run ended: SIGTERM, SIGKILL after 2 s).
    ///
    /// - Returns: its standard error, when it wrote any (for `clients/<id>.stderr.log`).
    func run(log: EventLog, board: ClientBoard) async -> String {
        let process: ChildProcess
        do {
            process = try await ChildProcess.start(
                arguments: self.command.arguments,
                environment: self.environment,
                part: "client \(self.id)",
                grace: .seconds(2),
                outputLimit: 64 * 1024
            ) { number, bytes in
                self.accept(number: number, bytes: bytes, log: log, board: board)
            }
        } catch {
            log.record(.clientFailedToStart(client: self.id, reason: "\(error)"))
            board.finished(self.id)
            return ""
        }
        log.record(.clientProcess(client: self.id, pid: Int(process.pid), command: process.commandLine))
        if let ended = await process.waitForExit() {
            let finished = board.isDone(self.id)
            log.record(.clientExited(client: self.id, status: "\(ended)", finished: finished, early: !finished))
            board.finished(self.id)
        } else {
            let finished = board.isDone(self.id)
            log.record(
                .clientTerminated(
                    client: self.id,
                    reason: finished ? "still running after its job finished" : "still running when the run ended",
                    finished: finished
                )
            )
            let killed = await process.stop()
            if killed {
                log.record(
                    .clientKilled(client: self.id, reason: "it or a process of its group ignored SIGTERM for 2 s")
                )
            }
        }
        return await process.output().errors
    }

    /// Takes one line of the client's output.
    private func accept(number: Int, bytes: [UInt8], log: EventLog, board: ClientBoard) {
        let received = EventLog.now()
        guard !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { return }
        let problem: String
        do {
            let value = try JSONValue.parse(bytes)
            if case .object(var fields) = value {
                switch Self.check(fields) {
                case .failure(let reason):
                    problem = reason.text
                case .success(let name):
                    // Squall's receipt time and the client's id are authoritative; the client's own clock is kept.
                    if let own = fields.removeValue(forKey: "time") { fields["clientTime"] = own }
                    fields.removeValue(forKey: "event")
                    let jobId = fields.removeValue(forKey: "jobId") ?? .string(self.jobId)
                    for key in ["source", "client"] { fields.removeValue(forKey: key) }
                    var line =
                        "{\"time\":\(JSONValue.format((received * 1_000).rounded() / 1_000)),\"source\":\"client\""
                    line +=
                        ",\"client\":\(JSONValue.quote(self.id)),\"event\":\"\(name.rawValue)\",\"jobId\":\(jobId.jsonText)"
                    for key in fields.keys.sorted() {
                        line += ",\(JSONValue.quote(key)):\(fields[key]!.jsonText)"
                    }
                    log.record(time: received, line: line + "}")
                    let via = fields["via"]?.stringValue.flatMap(HybridClientStateMachine.Transport.init(rawValue:))
                    board.update(client: self.id, event: name, via: via ?? .websocket)
                    return
                }
            } else {
                problem = "expected a JSON object, found \(value.typeDescription)"
            }
        } catch {
            problem = "\(error)"
        }
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
        log.record(.clientOutputMalformed(client: self.id, line: number, reason: problem, text: text), time: received)
    }

    /// Why an event object breaks the contract.
    private struct ContractBreach: Error {
        var text: String
    }

    /// The event's name when the object keeps the contract, or why it does not.
    private static func check(_ fields: [String: JSONValue]) -> Result<ClientEventName, ContractBreach> {
        guard case .string(let event)? = fields["event"] else {
            return .failure(ContractBreach(text: "no \"event\" string"))
        }
        guard let name = ClientEventName(rawValue: event) else {
            return .failure(
                ContractBreach(text: "unknown event \"\(event)\" (known: \(Self.eventNames.joined(separator: ", ")))")
            )
        }
        switch name {
        case .delivered:
            guard case .number(let seq)? = fields["seq"], seq >= 1, seq == seq.rounded() else {
                return .failure(ContractBreach(text: "\"delivered\" needs an integer \"seq\" ≥ 1"))
            }
        case .finished:
            guard let outcome = fields["outcome"]?.stringValue, outcome == "completed" || outcome == "failed" else {
                return .failure(ContractBreach(text: "\"finished\" needs \"outcome\": \"completed\" or \"failed\""))
            }
        case .connectAttempt, .connected, .connectFailed, .closed, .reconnectAttempt, .fallback, .steppedDown, .poll,
            .stateSync,
            .recovered, .duplicateDropped, .stopped, .suspended, .resumed:
            break
        }
        return .success(name)
    }
}
