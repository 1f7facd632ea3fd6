import Foundation
import SquallFaults
import SquallReferenceClient
import SquallReferenceServer

/// Everything a run produced: its event log and what was computed from it (metrics, gate verdicts).
///
/// Built the same way after a run and from a stored `events.ndjson` (``init(lines:)``), so a re-check gives the
/// identical result.
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
    /// The log, NDJSON lines in time order (stable: lines with equal times keep the order they were written in).
    public var lines: [String]
    /// The log's events, typed, in time order (stable: events with equal times keep the order they were written
    /// in, as ``lines``).
    public var events: [LoggedEvent]
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

    /// Re-reads a run from its log lines.
    ///
    /// - Throws: ``FaultError`` naming the line when one is not a valid event or the log has no `scenario` event.
    public init(lines: [String]) throws(FaultError) {
        var read: [(record: EventRecord, line: String)] = []
        read.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() where !line.isEmpty {
            do {
                read.append((try EventRecord(line: Array(line.utf8)), line))
            } catch {
                throw FaultError.inContext(subject: "line \(index + 1)", error)
            }
        }
        // Order by time on read: the log is written in arrival order, a few microseconds apart from time order.
        read.sort { $0.record.time < $1.record.time }
        try self.init(events: read.map { LoggedEvent($0.record) }, lines: read.map(\.line))
    }

    /// A run from records already read, in time order, with their lines (none when only the file holds them: the
    /// simulator's records are built as it writes, so a big run is not read back).
    ///
    /// - Throws: ``FaultError`` when the records have no `scenario` event or its scenario is invalid.
    package init(events: [LoggedEvent], lines: [String]) throws(FaultError) {
        guard let header = RunHeader(events: events), let source = header.scenario else {
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
        for logged in events.reversed() {
            if case .run(.runEnded(let reason, let interrupted)) = logged.event {
                ending = (reason, interrupted)
                break
            }
        }
        self.complete = ending != nil
        self.interrupted = ending?.interrupted ?? true
        self.endReason = ending?.reason ?? "incomplete log: it ends without run_ended (the run was killed)"
        self.startedAt = events.first?.time ?? 0
        self.endedAt = events.last?.time ?? 0
        self.lines = lines
        self.events = events
        self.harness = HarnessHealth(events: events, scenario: self.scenario, header: header)
        let metrics = RunMetrics(events: events)
        self.metrics = metrics
        var gates = self.scenario.gates
        if !gates.contains(where: { $0.metric == .faultsNotInjected }) {
            gates.append(try Gate(key: Metric.faultsNotInjected.rawValue, expression: "count==0", path: "gates"))
        }
        let harness = self.harness
        let end = self.endedAt
        self.gates = gates.map { GateResult(gate: $0, metrics: metrics, harness: harness, runEnd: end) }
    }

    /// Reads a stored `events.ndjson`, decoding each line as it goes (the lines stay on disk: ``lines`` is empty). A
    /// last line cut off by a kill (no newline after it, not valid JSON) is dropped, and such a log reads as
    /// incomplete.
    ///
    /// - Throws: ``ScenarioError/unreadable(path:reason:)``, or ``ScenarioError/invalidRecord(path:reason:)``
    ///   naming the bad line.
    public init(contentsOf path: String) throws(ScenarioError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: "cannot open the file")
        }
        var events: [LoggedEvent] = []
        var torn = false
        var failure: FaultError?
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            let bytes = buffer.bindMemory(to: UInt8.self)
            var start = 0
            var number = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                number += 1
                let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                start = end + 1
                guard !line.isEmpty else { continue }
                do throws(FaultError) {
                    events.append(LoggedEvent(try EventRecord(line: line)))
                } catch {
                    // A last line without its newline was cut off by a kill: dropped, the log incomplete.
                    if end == bytes.count {
                        torn = true
                    } else {
                        failure = FaultError.inContext(subject: "line \(number)", error)
                    }
                    return
                }
            }
        }
        if let failure { throw .invalidRecord(path: path, reason: "\(failure)") }
        // Order by time on read: the log is written in arrival order, a few microseconds apart from time order.
        events.sort { $0.time < $1.time }
        do {
            try self.init(events: events, lines: [])
        } catch {
            throw .invalidRecord(path: path, reason: "\(error)")
        }
        if torn {
            self.complete = false
            self.interrupted = true
            self.endReason = "incomplete log: its last line was cut off (the run was killed)"
        }
    }

    /// The log's lines read back as records, for tools and tests that look at a line's fields: parsed from
    /// ``lines`` when the run kept them, else written again from the typed events (an `unknown` line is skipped).
    package var records: [EventRecord] {
        if !self.lines.isEmpty {
            return self.lines.compactMap { try? EventRecord(line: Array($0.utf8)) }.sorted { $0.time < $1.time }
        }
        return self.events.compactMap { logged in
            switch logged.event {
            case .client(let event): EventRecord(fields: event.fields)
            case .server(let event): EventRecord(fields: event.fields)
            case .run(let event): EventRecord(run: event.name, event.fields, time: logged.time)
            case .unknown: nil
            }
        }
    }
}
