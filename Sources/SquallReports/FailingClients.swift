import SquallFaults
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
        func worst(_ samples: (ClientOutcome) -> [Double]) -> [ClientOutcome] {
            selected.filter { client in samples(client).contains { !gate.comparison.holds($0, gate.threshold) } }
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
        case .connectRatePeak, .pollingRatePeak, .faultEvents, .faultsNotInjected: return []
        }
    }

    /// The client's first events, one line each: scenario seconds since the run started, the event, its detail.
    static func timeline(of client: String, in record: RunRecord) -> [String] {
        let start = record.records.first?.time ?? 0
        let scale = record.scenario.timeScale
        var lines: [String] = []
        for event in record.records where event.client == client && event.source == "client" {
            let seconds = MetricSummary.format((event.time - start) / scale / 1_000)
            var detail = ""
            if let reason = event.string("reason") {
                detail = " — \(reason)"
            } else if let seq = event.integer("seq") {
                detail = " seq \(seq)\(event.string("via").map { " via \($0)" } ?? "")"
            } else if let attempt = event.integer("attempt") {
                detail = " #\(attempt)"
            }
            lines.append("\(seconds) s \(event.event)\(detail)")
            if lines.count == Self.eventsShown { break }
        }
        return lines
    }
}
