import SquallFaults
import SquallReferenceClient
import SquallScenarios

/// The first question after a red run — which clients failed this gate, and what happened to them — answered from
/// the log: the clients a failed gate points at, and each one's short timeline.
enum FailingClients {
    /// Clients listed per gate.
    static let shown = 20
    /// Events listed per client.
    static let eventsShown = 12

    /// The clients that made `result` fail, worst first; empty for a gate on a run-wide metric or one that passed.
    static func clients(for result: GateResult, in metrics: RunMetrics) -> [ClientOutcome] {
        guard !result.passed, result.gate.metric.isPerClient else { return [] }
        let gate = result.gate
        let selected = metrics.clients(matching: gate.tags)
        func worst(_ observations: (ClientOutcome) -> [Observation]) -> [ClientOutcome] {
            func samples(_ client: ClientOutcome) -> [Double] { observations(client).map(\.value) }
            return selected.filter { client in samples(client).contains { !gate.comparison.holds($0, gate.threshold) } }
                .sorted { (samples($0).max() ?? 0) > (samples($1).max() ?? 0) }
        }
        switch gate.metric {
        case .fallbackRate: return selected.filter(\.fellBack)
        case .websocketSuccessRate: return selected.filter { $0.connections < $0.connectAttempts }
        case .completionRate: return selected.filter { $0.outcome != "completed" }
        case .duplicateMessages: return selected.filter { $0.duplicates > 0 }.sorted { $0.duplicates > $1.duplicates }
        case .lostMessages: return selected.filter { $0.lost > 0 }.sorted { $0.lost > $1.lost }
        case .unexpectedMessages: return selected.filter { $0.unexpected > 0 }
        case .reconnectAttempts:
            return selected.filter { $0.reconnectAttempts > 0 }.sorted { $0.reconnectAttempts > $1.reconnectAttempts }
        case .pollingRequests: return selected.filter { $0.polls > 0 }.sorted { $0.polls > $1.polls }
        case .malformedOutput: return selected.filter { $0.malformedLines > 0 }
        case .stuckOnPollingRate: return selected.filter(\.stuckOnPolling)
        case .updateLatency: return worst(\.latencies)
        case .timeToFirstUpdate: return worst { $0.timeToFirstUpdate.map { [$0] } ?? [] }
        case .timeToRecover: return worst(\.recoveries)
        case .timeToFallback: return worst(\.fallbackDelays)
        case .timeOnPollingAfterRecovery: return worst(\.pollingAfterRecovery)
        case .stepRecovery: return worst { RunMetrics.stepSamples($0.stepRecoveries, gate.tags["step"]) }
        case .stepFallback: return worst { RunMetrics.stepSamples($0.stepFallbacks, gate.tags["step"]) }
        case .stepLostMessages:
            let step = gate.tags["step"]
            return selected.filter { $0.lostMessages(inStep: step) > 0 }
                .sorted { $0.lostMessages(inStep: step) > $1.lostMessages(inStep: step) }
        case .resumeSuccessRate: return selected.filter { $0.resumes.contains { $0.value == 0 } }
        case .timeToResume: return worst(\.resumeDelays)
        case .replayedEvents:
            func replayed(_ client: ClientOutcome) -> Double { client.replays.reduce(0) { $0 + $1.value } }
            return selected.filter { replayed($0) > 0 }.sorted { replayed($0) > replayed($1) }
        case .connectRatePeak, .pollingRatePeak, .faultEvents, .faultsNotInjected: return []
        }
    }

    /// The short timeline of every client a failed gate lists (its first ``shown``), by client: their events read
    /// in one pass (again from the file when the record does not hold them).
    static func timelines(in record: RunRecord) -> [String: [String]] {
        var ids = Set<String>()
        for result in record.gates {
            for client in Self.clients(for: result, in: record.metrics).prefix(Self.shown) { ids.insert(client.id) }
        }
        guard !ids.isEmpty else { return [:] }
        var events: [String: [ClientEvent]] = [:]
        for logged in record.clientEvents(of: ids) {
            if case .client(let event) = logged.event { events[event.clientId, default: []].append(event) }
        }
        return events.mapValues { Self.timeline(of: $0, in: record) }
    }

    /// A client's story (`events`, its events in time order) in about ``eventsShown`` entries, scenario seconds
    /// since the run started: runs of first deliveries are folded into one entry (`delivered seq 1…10 via
    /// websocket`), a delivery of a seq already delivered is called out, every other event (connects, failures,
    /// closes, fallbacks, polls) is listed.
    static func timeline(of events: [ClientEvent], in record: RunRecord) -> [String] {
        let start = record.startedAt
        let clock = ScenarioClock(record.scenario)
        func seconds(_ time: Double) -> String {
            MetricSummary.format(clock.scenarioMilliseconds(from: start, to: time) / 1_000) + " s"
        }
        var entries: [String] = []
        var seen = Set<Int>()
        var run: (from: Int, to: Int, via: String, at: Double)?
        func flush() {
            guard let current = run else { return }
            let range = current.from == current.to ? "\(current.from)" : "\(current.from)…\(current.to)"
            entries.append("\(seconds(current.at)) delivered seq \(range) via \(current.via)")
            run = nil
        }
        for event in events {
            let detail: String
            switch event.kind {
            case .delivered(let seq, let transport, _, _):
                let via = transport.rawValue
                if !seen.insert(seq).inserted {
                    flush()
                    entries.append("\(seconds(event.time)) delivered seq \(seq) again via \(via) (duplicate)")
                } else if let current = run, current.via == via, current.to + 1 == seq {
                    run?.to = seq
                } else {
                    flush()
                    run = (seq, seq, via, event.time)
                }
                continue
            case .connectFailed(let reason), .closed(_, let reason), .fallback(let reason), .stopped(let reason):
                detail = " — \(reason)"
            case .steppedDown(let transport, let reason):
                detail = " to \(transport.rawValue) — \(reason)"
            case .connectAttempt(let attempt, _), .connected(let attempt, _, _), .reconnectAttempt(let attempt, _),
                .stateSync(let attempt, _, _, _):
                detail = " #\(attempt)"
            case .poll, .recovered, .duplicateDropped, .finished, .suspended, .resumed:
                detail = ""
            }
            flush()
            entries.append("\(seconds(event.time)) \(event.name)\(detail)")
        }
        flush()
        guard entries.count > Self.eventsShown else { return entries }
        // Too long: its beginning, then the part that matters — up to the first duplicate when there is one, else
        // the end (how it finished or was stopped).
        let head = Self.eventsShown / 2
        let tail = Self.eventsShown - head - 1
        let firstDuplicate = entries.firstIndex { $0.hasSuffix("(duplicate)") }
        let end = firstDuplicate.map { max($0 + 1, head + tail) } ?? entries.count
        return Array(entries.prefix(head)) + ["…"] + Array(entries[(end - tail)..<end])
    }
}
