import SquallFaults

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
    static let eventNames: Set<String> = [
        "connect_attempt", "connected", "connect_failed", "closed", "reconnect_attempt", "fallback", "poll",
        "state_sync",
        "recovered", "delivered", "duplicate_dropped", "finished", "stopped", "suspended", "resumed",
    ]

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
            log.recordRun("client_failed_to_start", [("client", .string(self.id)), ("reason", .string("\(error)"))])
            board.finished(self.id)
            return ""
        }
        log.recordRun(
            "client_process",
            [
                ("client", .string(self.id)), ("pid", .number(Double(process.pid))),
                ("command", .string(process.commandLine)),
            ]
        )
        if let ended = await process.waitForExit() {
            let finished = board.isDone(self.id)
            log.recordRun(
                "client_exited",
                [
                    ("client", .string(self.id)), ("status", .string("\(ended)")), ("finished", .bool(finished)),
                    ("early", .bool(!finished)),
                ]
            )
            board.finished(self.id)
        } else {
            let finished = board.isDone(self.id)
            log.recordRun(
                "client_terminated",
                [
                    ("client", .string(self.id)),
                    (
                        "reason",
                        .string(finished ? "still running after its job finished" : "still running when the run ended")
                    ),
                    ("finished", .bool(finished)),
                ]
            )
            let killed = await process.stop()
            if killed {
                log.recordRun(
                    "client_killed",
                    [
                        ("client", .string(self.id)),
                        ("reason", .string("it or a process of its group ignored SIGTERM for 2 s")),
                    ]
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
                if let reason = Self.problem(in: fields) {
                    problem = reason
                } else {
                    // Squall's receipt time and the client's id are authoritative; the client's own clock is kept.
                    if let own = fields.removeValue(forKey: "time") { fields["clientTime"] = own }
                    let event = fields.removeValue(forKey: "event")?.stringValue ?? ""
                    let jobId = fields.removeValue(forKey: "jobId") ?? .string(self.jobId)
                    for key in ["source", "client"] { fields.removeValue(forKey: key) }
                    var line =
                        "{\"time\":\(JSONValue.format((received * 1_000).rounded() / 1_000)),\"source\":\"client\""
                    line +=
                        ",\"client\":\(JSONValue.quote(self.id)),\"event\":\(JSONValue.quote(event)),\"jobId\":\(jobId.jsonText)"
                    for key in fields.keys.sorted() {
                        line += ",\(JSONValue.quote(key)):\(fields[key]!.jsonText)"
                    }
                    log.record(time: received, line: line + "}")
                    board.update(client: self.id, event: event)
                    return
                }
            } else {
                problem = "expected a JSON object, found \(value.typeDescription)"
            }
        } catch {
            problem = "\(error)"
        }
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
        log.recordRun(
            "client_output_malformed",
            [
                ("client", .string(self.id)), ("line", .number(Double(number))), ("reason", .string(problem)),
                ("text", .string(text)),
            ],
            time: received
        )
    }

    /// Why an event object breaks the contract, nil when it is fine.
    private static func problem(in fields: [String: JSONValue]) -> String? {
        guard case .string(let event)? = fields["event"] else {
            return "no \"event\" string"
        }
        guard Self.eventNames.contains(event) else {
            return "unknown event \"\(event)\" (known: \(Self.eventNames.sorted().joined(separator: ", ")))"
        }
        switch event {
        case "delivered":
            guard case .number(let seq)? = fields["seq"], seq >= 1, seq == seq.rounded() else {
                return "\"delivered\" needs an integer \"seq\" ≥ 1"
            }
        case "finished":
            guard let outcome = fields["outcome"]?.stringValue, outcome == "completed" || outcome == "failed" else {
                return "\"finished\" needs \"outcome\": \"completed\" or \"failed\""
            }
        default:
            break
        }
        return nil
    }
}
