import Foundation
import SquallFaults
import SquallReferenceClient
import SquallReferenceServer

/// Everything a run produced: its event log and what was computed from it (metrics, gate verdicts).
///
/// Built the same way after a run and from a stored `events.ndjson` (``init(contentsOf:)``): the events read once
/// into a ``RunAnalysis``, so a re-check gives the identical result.
public struct RunRecord: Sendable {
    /// The scenario, re-read from the log's `scenario` event.
    public var scenario: Scenario
    /// The planned timeline's digest recorded at the start.
    public var planDigest: String
    /// The scenario file's digest.
    public var scenarioDigest: String
    /// The Squall version that ran it.
    public var version: String
    /// `real` (sockets, `squall run`) or `sim` (virtual time, `squall sim`).
    public var mode: String
    /// First and last event times (ms since the epoch).
    public var startedAt: Double
    /// Last event time.
    public var endedAt: Double
    /// Whether the run was interrupted (SIGINT/SIGTERM) before its end, or its log ends early.
    public var interrupted: Bool
    /// Whether the log ends with `run_ended`; false for a run that was killed (its log stops at its last flush).
    public var complete: Bool
    /// Why it ended: `duration reached`, `all clients finished`, `interrupted`.
    public var endReason: String
    /// The log, NDJSON lines in time order (stable: lines with equal times keep the order they were written in);
    /// empty when only the file holds them (a simulation writing to disk, a log read back).
    public var lines: [String]
    /// The runner's events (`source: run`) about the run as a whole, typed, in time order: the header, the timeline,
    /// the server, external clients' processes, the harness's samples, the end. The clients' and the server's
    /// events are read once into ``metrics`` and ``clientStates``; ``clientEvents(of:)`` reads those of a few clients
    /// again.
    public var runEvents: [LoggedEvent]
    /// How many events the log holds.
    public var eventCount: Int
    /// Client connections that ended before the client's job did: cut under it, or closed by its own heartbeat.
    public var linkEnds: Int
    /// Each client's states over the run, for the report's charts.
    package var clientStates: ClientStateTimeline
    /// Every event, when the record holds them (a real run's, a small log's); nil when they are read again from
    /// ``eventLogPath``.
    private var heldEvents: [LoggedEvent]?
    /// The file the log is on, when it is on one.
    public var eventLogPath: String?
    /// Files kept beside the report (an external server's output, external clients' standard error), by path
    /// relative to the report folder. Not part of the log, so a re-check does not have them.
    public var attachments: [String: String] = [:]
    /// The metrics.
    public var metrics: RunMetrics
    /// Every gate's verdict, the scenario's plus the implicit `faults_not_injected count==0`.
    public var gates: [GateResult]
    /// How well the harness kept up, from its `harness_lag` events.
    public var harness: HarnessHealth

    /// Whether every gate passed (an interrupted run never passes).
    public var passed: Bool {
        self.verdict == .passed
    }

    /// What the outcome means: a failed gate counts against the system under test only when the harness kept up.
    public var verdict: RunVerdict {
        self.interrupted ? .interrupted : self.verdictOfGates
    }

    /// The verdict of the gates on the events the log holds, interrupted or not: `passed`, `failed` or
    /// `inconclusive`. A re-check of a partial log reports this one. Any gate that failed as a verdict on the app
    /// (see ``GateResult``) fails the run; otherwise any inconclusive gate makes it inconclusive.
    public var verdictOfGates: RunVerdict {
        if self.gates.contains(where: { $0.verdict == .failed }) { return .failed }
        if self.gates.contains(where: { $0.verdict == .inconclusive }) { return .inconclusive }
        return .passed
    }

    /// Whether the harness's overload makes this gate's result no verdict on the app: a failure it may have caused,
    /// or a pass (or a want of evidence) under so much overload that the clients may not have done what the gate
    /// judges. Never a safety gate's failure.
    public func excuses(_ result: GateResult) -> Bool {
        result.verdict == .inconclusive
    }

    /// Re-reads a run from its log lines (a real run's, held in memory).
    ///
    /// - Throws: ``FaultError`` naming the line when one is not a valid event or the log has no `scenario` event.
    public init(lines: [String]) throws(FaultError) {
        var read: [(event: LoggedEvent, line: String)] = []
        read.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() where !line.isEmpty {
            do {
                read.append((LoggedEvent(try EventRecord(line: Array(line.utf8))), line))
            } catch {
                throw FaultError.inContext(subject: "line \(index + 1)", error)
            }
        }
        // Order by time on read: the log is written in arrival order, a few microseconds apart from time order.
        read.sort { $0.event.time < $1.event.time }
        try self.init(events: read.map(\.event), lines: read.map(\.line))
    }

    /// A run from events already read, in time order, with their lines (none when only the file holds them); the
    /// record keeps the events.
    ///
    /// - Throws: ``FaultError`` when the events have no `scenario` event or its scenario is invalid.
    package init(events: [LoggedEvent], lines: [String]) throws(FaultError) {
        var analysis = RunAnalysis()
        for event in events { analysis.add(event) }
        try self.init(analysis: analysis.finish(), lines: lines)
        self.heldEvents = events
    }

    /// A run from its analysis, with the lines when the run kept them in memory and the file the log is on (nil
    /// when none).
    ///
    /// - Throws: ``FaultError`` when the log has no `scenario` event or its scenario is invalid.
    package init(analysis: RunAnalysis.Result, lines: [String], eventLogPath: String? = nil) throws(FaultError) {
        guard let header = analysis.header, let source = header.scenario else {
            throw FaultError.missingField(
                path: "(log)",
                field: "a run event \"scenario\" (the first line of events.ndjson)"
            )
        }
        let simulated = header.isSimulated
        self.mode = simulated ? "sim" : "real"
        // A sharded run's scenario holds a real run's limit per shard.
        let runners = max(1, header.shard?.count ?? 1)
        self.scenario = try Scenario(
            json: source,
            clientLimit: simulated ? Scenario.maximumSimulatedClients : Scenario.maximumClients * runners
        )
        self.planDigest = header.planDigest
        self.scenarioDigest = header.scenarioDigest
        self.version = header.version
        var ending: (reason: String, interrupted: Bool)?
        for logged in analysis.runEvents.reversed() {
            if case .run(.runEnded(let reason, let interrupted)) = logged.event {
                ending = (reason, interrupted)
                break
            }
        }
        self.complete = ending != nil
        self.interrupted = ending?.interrupted ?? true
        self.endReason = ending?.reason ?? "incomplete log: it ends without run_ended (the run was killed)"
        self.startedAt = analysis.firstTime
        self.endedAt = analysis.lastTime
        self.lines = lines
        self.runEvents = analysis.runEvents
        self.eventCount = analysis.eventCount
        self.linkEnds = analysis.linkEnds
        self.clientStates = analysis.clientStates
        self.heldEvents = nil
        self.eventLogPath = eventLogPath
        self.harness = HarnessHealth(
            events: analysis.runEvents,
            scenario: self.scenario,
            header: header,
            runStart: analysis.firstTime
        )
        let metrics = analysis.metrics
        self.metrics = metrics
        var gates = self.scenario.gates
        if !gates.contains(where: { $0.metric == .faultsNotInjected }) {
            gates.append(try Gate(key: Metric.faultsNotInjected.rawValue, expression: "count==0", path: "gates"))
        }
        let harness = self.harness
        let end = self.endedAt
        self.gates = gates.map { GateResult(gate: $0, metrics: metrics, harness: harness, runEnd: end) }
    }

    /// Reads a stored `events.ndjson` a chunk at a time, each event read once into the analysis (neither the file
    /// nor its events are held: ``lines`` is empty, ``clientEvents(of:)`` reads the file again). A last line cut
    /// off by a kill (no newline after it, not valid JSON) is dropped, and such a log reads as incomplete.
    ///
    /// - Throws: ``ScenarioError/unreadable(path:reason:)``, or ``ScenarioError/invalidRecord(path:reason:)``
    ///   naming the bad line.
    public init(contentsOf path: String) throws(ScenarioError) {
        let read = try EventLogReader.fold(path, into: RunAnalysis()) { $0.add($1) }
        do {
            try self.init(analysis: read.state.finish(), lines: [], eventLogPath: path)
        } catch {
            throw .invalidRecord(path: path, reason: "\(error)")
        }
        if read.torn {
            self.complete = false
            self.interrupted = true
            self.endReason = "incomplete log: its last line was cut off (the run was killed)"
        }
    }

    /// The size of the log's file in bytes, when it is on one.
    public var eventLogSize: Int? {
        self.eventLogPath.flatMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int }
    }

    /// The events of the clients `ids`, in time order: from the events the record holds, else its lines, else its
    /// file, read again (nothing when it has none of them or the file is gone).
    package func clientEvents(of ids: Set<String>) -> [LoggedEvent] {
        func wanted(_ logged: LoggedEvent) -> Bool {
            if case .client(let event) = logged.event { return ids.contains(event.clientId) }
            return false
        }
        if let held = self.heldEvents { return held.filter(wanted) }
        if !self.lines.isEmpty {
            return LoggedEvent.inTimeOrder(
                self.lines.compactMap { try? LoggedEvent(EventRecord(line: Array($0.utf8))) }.filter(wanted)
            )
        }
        guard let path = self.eventLogPath else { return [] }
        let read = try? EventLogReader.fold(path, into: [LoggedEvent]()) { kept, event in
            if wanted(event) { kept.append(event) }
        }
        return read?.state ?? []
    }

    /// The log's lines read back as records, for tools and tests that look at a line's fields: parsed from
    /// ``lines`` when the run kept them, else written again from the typed events it holds or its file's (an
    /// `unknown` line is skipped).
    package var records: [EventRecord] {
        if !self.lines.isEmpty {
            return self.lines.compactMap { try? EventRecord(line: Array($0.utf8)) }.sorted { $0.time < $1.time }
        }
        let events =
            self.heldEvents
            ?? self.eventLogPath.flatMap { path in
                try? EventLogReader.fold(path, into: [LoggedEvent]()) { $0.append($1) }.state
            } ?? []
        return events.compactMap { logged in
            switch logged.event {
            case .client(let event): EventRecord(fields: event.fields)
            case .server(let event): EventRecord(fields: event.fields)
            case .run(let event): EventRecord(run: event.name, event.fields, time: logged.time)
            case .unknown: nil
            }
        }
    }
}
