import Foundation
import SquallScenarios

/// `summary.md`: the verdict, the gates with their observed values, the metrics, and a per-group breakdown; meant
/// for a CI job summary or a pull-request comment.
enum MarkdownSummary {
    /// The Markdown for one run.
    static func text(_ record: RunRecord) -> String {
        let metrics = record.metrics
        var text = "# \(record.scenario.name): \(record.verdict.label)\n\n"
        if !record.scenario.description.isEmpty { text += "\(record.scenario.description)\n\n" }
        if let explanation = HarnessReport.explanation(record) { text += "> **\(explanation)**\n\n" }
        text +=
            "Seed \(record.scenario.seed), timeScale \(MetricSummary.format(record.scenario.timeScale)), \(metrics.clients.count) clients, "
        text += "\(MetricSummary.format(metrics.durationMilliseconds / 1_000)) s scenario time (\(record.endReason)); "
        text += "plan \(record.planDigest), Squall \(record.version). Times are in scenario time.\n\n"
        if let path = record.eventLogPath, let size = record.eventLogSize {
            let name = (path as NSString).lastPathComponent
            let kind = name.hasSuffix(".gz") ? "gzip of its NDJSON lines" : "NDJSON"
            text +=
                "This folder's log: `\(name)`, \(record.eventCount) events, "
                + "\(MetricSummary.format(Double(size) / 1_048_576)) MB on disk (\(kind)).\n\n"
        }
        text += "## Gates\n\n| metric | gate | observed | result | note |\n|---|---|---:|---|---|\n"
        for result in record.gates {
            let observed = result.observed.map { MetricSummary.format($0) } ?? "no samples"
            let verdict: String
            switch result.verdict {
            case .passed: verdict = "pass"
            case .failed: verdict = "**FAIL**"
            case .inconclusive: verdict = result.passed ? "**pass (inconclusive)**" : "**fail (inconclusive)**"
            case .interrupted: verdict = "interrupted"
            }
            let note =
                GateNote.text(result, in: record).map {
                    $0.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
                } ?? ""
            text += "| `\(result.gate.key)` | `\(result.gate.expression)` | \(observed) | \(verdict) | \(note) |\n"
        }
        let timelines = FailingClients.timelines(in: record)
        for result in record.gates {
            let failing = FailingClients.clients(for: result, in: metrics)
            guard !failing.isEmpty else { continue }
            text += "\n### Clients that failed `\(result.gate.key)` `\(result.gate.expression)`\n\n"
            for client in failing.prefix(FailingClients.shown) {
                text += "- **\(client.id)** (\(client.outcome)): "
                text += (timelines[client.id] ?? []).joined(separator: "; ") + "\n"
            }
            if failing.count > FailingClients.shown {
                text += "- … and \(failing.count - FailingClients.shown) more (see `events.ndjson`)\n"
            }
        }
        if !metrics.faultsNotInjected.isEmpty {
            text +=
                "\nNever injected (hit no connection): "
                + metrics.faultsNotInjected.map { "`\($0)`" }.joined(separator: ", ") + "\n"
        }
        text += "\n## Harness\n\n\(record.harness.summary). Bound: \(record.harness.bound.reason).\n"
        text += "\n## Metrics\n\n| metric | value |\n|---|---|\n"
        for metric in metrics.reported {
            text += "| `\(metric.rawValue)` | \(MetricSummary.text(metric, metrics)) |\n"
        }
        let groups = Set(metrics.clients.map(\.group)).sorted()
        if groups.count > 1 {
            let columns: [Metric] = [
                .fallbackRate, .completionRate, .duplicateMessages, .lostMessages, .reconnectAttempts,
            ]
            text += "\n## By group\n\n| group | clients | " + columns.map(\.rawValue).joined(separator: " | ") + " |\n"
            text += "|---|---:|" + columns.map { _ in "---:|" }.joined() + "\n"
            for group in groups {
                let tags = ["group": group]
                text += "| \(group) | \(metrics.clients(matching: tags).count) | "
                text += columns.map { MetricSummary.text($0, metrics, tags: tags) }.joined(separator: " | ") + " |\n"
            }
        }
        let troubled = metrics.clients.filter {
            $0.outcome != "completed" || $0.process != nil || $0.malformedLines > 0 || $0.lost > 0 || $0.duplicates > 0
        }
        if !troubled.isEmpty {
            let shown = 20
            text +=
                "\n## Clients to look at\n\n| client | outcome | lost | duplicates | malformed lines | process |\n|---|---|---:|---:|---:|---|\n"
            for client in troubled.prefix(shown) {
                text +=
                    "| \(client.id) | \(client.outcome) | \(client.lost) | \(client.duplicates) | \(client.malformedLines) | \(client.process ?? "") |\n"
            }
            if troubled.count > shown {
                text += "\n… and \(troubled.count - shown) more (see `events.ndjson`).\n"
            }
        }
        return text
    }
}
