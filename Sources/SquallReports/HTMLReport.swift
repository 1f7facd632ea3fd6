import SquallFaults
import SquallScenarios

/// `report.html`: one self-contained page (inline CSS and SVG, no scripts, no network) with the verdict, the gates,
/// a per-client strategy timeline (WebSocket / reconnecting / polling) with the fault windows shaded, a latency
/// histogram, and fallback and delivery counts per group.
enum HTMLReport {
    /// The page for one run.
    static func page(_ record: RunRecord) -> String {
        let records = record.records
        let metrics = record.metrics
        let verdict = record.verdict.rawValue
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(record.scenario.name)) — Squall</title>
            <style>
            body{font:14px/1.45 -apple-system,system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
            h1 span{font-size:.6em;padding:.2em .6em;border-radius:.3em;color:#fff;vertical-align:middle}
            .passed{background:#2e7d32}.failed{background:#c62828}.interrupted{background:#ef6c00}.inconclusive{background:#6d4c41}.note{border-left:4px solid #6d4c41;padding:.4em .8em;background:#efebe9}
            table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left}
            td.num{text-align:right}.fail{color:#c62828;font-weight:600}.legend span{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em}
            svg{background:#fafafa;border:1px solid #eee}
            </style></head><body>
            <h1>\(Self.escape(record.scenario.name)) <span class="\(verdict)">\(verdict)</span></h1>
            <p>\(Self.escape(record.scenario.description))</p>
            <p>Seed \(record.scenario.seed) · timeScale \(MetricSummary.format(record.scenario.timeScale)) · \(metrics.clients.count) clients · \(MetricSummary.format(metrics.durationMilliseconds / 1_000)) s scenario time (\(Self.escape(record.endReason))) · plan \(record.planDigest) · Squall \(Self.escape(record.version)). All times are scenario time.</p>
            \(HarnessReport.explanation(record).map { "<p class=\"note\">\(Self.escape($0))</p>" } ?? "")
            <h2>Gates</h2><table><tr><th>metric</th><th>gate</th><th>observed</th><th>result</th></tr>

            """
        for result in record.gates {
            let observed = result.observed.map { MetricSummary.format($0) } ?? "no samples"
            html +=
                "<tr><td><code>\(Self.escape(result.gate.key))</code></td><td><code>\(Self.escape(result.gate.expression))</code></td><td class=\"num\">\(observed)</td><td class=\"\(result.passed ? "" : "fail")\">\(result.passed ? "pass" : "FAIL")</td></tr>\n"
        }
        html += "</table>\n"
        for result in record.gates {
            let failing = FailingClients.clients(for: result, in: metrics)
            guard !failing.isEmpty else { continue }
            html +=
                "<h3>Clients that failed <code>\(Self.escape(result.gate.key))</code> <code>\(Self.escape(result.gate.expression))</code></h3><ul>\n"
            for client in failing.prefix(FailingClients.shown) {
                let events = FailingClients.timeline(of: client.id, in: record).map(Self.escape)
                html +=
                    "<li><b>\(Self.escape(client.id))</b> (\(Self.escape(client.outcome))): \(events.joined(separator: "; "))</li>\n"
            }
            if failing.count > FailingClients.shown {
                html += "<li>… and \(failing.count - FailingClients.shown) more (see events.ndjson)</li>\n"
            }
            html += "</ul>\n"
        }
        if !metrics.faultsNotInjected.isEmpty {
            html +=
                "<p class=\"fail\">Never injected: \(metrics.faultsNotInjected.map(Self.escape).joined(separator: ", "))</p>\n"
        }
        html += "<h2>Client timeline</h2>\n"
        html +=
            "<p class=\"legend\"><span style=\"background:#43a047\"></span>WebSocket<span style=\"background:#fb8c00\"></span>connecting / reconnecting<span style=\"background:#1e88e5\"></span>polling<span style=\"background:#8e24aa\"></span>suspended<span style=\"background:rgba(229,57,53,.18)\"></span>fault window, handoff blackout, server downtime</p>\n"
        html += Self.timeline(records, record: record)
        html += "<h2>Update latency</h2>\n" + Self.histogram(metrics.samples(.updateLatency))
        html +=
            "<h2>Per group</h2><table><tr><th>group</th><th>clients</th><th>fell back</th><th>completed</th><th>delivered (WebSocket)</th><th>delivered (polling)</th><th>duplicates</th><th>lost</th></tr>\n"
        for group in Set(metrics.clients.map(\.group)).sorted() {
            let clients = metrics.clients(matching: ["group": group])
            let polling = clients.reduce(0) { $0 + $1.deliveredByPolling }
            let total = clients.reduce(0) { $0 + $1.delivered }
            html +=
                "<tr><td>\(Self.escape(group))</td><td class=\"num\">\(clients.count)</td><td class=\"num\">\(clients.filter(\.fellBack).count)</td><td class=\"num\">\(clients.filter { $0.outcome == "completed" }.count)</td><td class=\"num\">\(total - polling)</td><td class=\"num\">\(polling)</td><td class=\"num\">\(clients.reduce(0) { $0 + $1.duplicates })</td><td class=\"num\">\(clients.reduce(0) { $0 + $1.lost })</td></tr>\n"
        }
        html += "</table>\n" + Self.groupBars(metrics)
        html +=
            "<h2>Harness</h2><p>\(Self.escape(record.harness.summary)). Bound: \(Self.escape(record.harness.bound.reason)).</p>\n"
        html += "<h2>Metrics</h2><table><tr><th>metric</th><th>value</th></tr>\n"
        for metric in Metric.allCases {
            html +=
                "<tr><td><code>\(metric.rawValue)</code></td><td>\(Self.escape(MetricSummary.text(metric, metrics)))</td></tr>\n"
        }
        html += "</table>\n</body></html>\n"
        return html
    }

    private enum Lane: String {
        case connecting = "#fb8c00"
        case websocket = "#43a047"
        case polling = "#1e88e5"
        case suspended = "#8e24aa"
    }

    /// One row per client (up to 200), coloured by state over time, with fault windows, handoff blackouts and
    /// server downtimes shaded over the lanes.
    private static func timeline(_ records: [EventRecord], record: RunRecord) -> String {
        let start = record.startedAt
        let span = max(1, record.endedAt - start)
        let clients = Array(record.metrics.clients.prefix(200))
        let rowHeight = clients.count > 60 ? 3.0 : 10.0
        let width = 1000.0
        let left = 110.0
        let top = 10.0
        let height = top + Double(clients.count) * rowHeight + 30
        func x(_ time: Double) -> Double { left + (time - start) / span * (width - left - 10) }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
        // Fault windows, handoff blackouts and server downtimes go on top of the lanes, translucent, so they show
        // whatever state the clients were in.
        var overlay = ""
        let laneHeight = Self.f(Double(clients.count) * rowHeight)
        func shade(from since: Double, to until: Double, _ title: String) {
            overlay +=
                "<rect x=\"\(Self.f(x(since)))\" y=\"\(top)\" width=\"\(Self.f(max(1, x(until) - x(since))))\" height=\"\(laneHeight)\" fill=\"rgba(229,57,53,.18)\"><title>\(Self.escape(title))</title></rect>\n"
        }
        var openFaults: [String: Double] = [:]
        for event in records where event.source == "run" {
            switch event.event {
            case "fault_applied":
                if let name = event.string("name") { openFaults[name] = event.time }
            case "fault_lifted":
                if let name = event.string("name"), let since = openFaults.removeValue(forKey: name) {
                    shade(from: since, to: event.time, name)
                }
            case "handoff", "server_restart":
                overlay +=
                    "<line x1=\"\(Self.f(x(event.time)))\" x2=\"\(Self.f(x(event.time)))\" y1=\"\(top)\" y2=\"\(Self.f(top + Double(clients.count) * rowHeight))\" stroke=\"#e53935\" stroke-width=\"2\"><title>\(event.event)</title></line>\n"
                // The blackout (handoff) or downtime (restart), logged in scenario time.
                let window =
                    event.string(event.event == "handoff" ? "blackout" : "downtime")
                    .flatMap(Duration.init(parsing:)) ?? .zero
                if window > .zero {
                    let title = event.event == "handoff" ? "handoff blackout" : "server restart downtime"
                    shade(from: event.time, to: event.time + window.milliseconds * record.scenario.timeScale, title)
                }
            default:
                break
            }
        }
        for (name, since) in openFaults { shade(from: since, to: record.endedAt, name) }
        let index = Dictionary(uniqueKeysWithValues: clients.enumerated().map { ($1.id, $0) })
        var lane: [String: (Lane, Double)] = [:]
        var before: [String: Lane] = [:]
        func close(_ id: String, at time: Double) {
            guard let (state, since) = lane.removeValue(forKey: id), let row = index[id] else { return }
            let y = top + Double(row) * rowHeight
            svg +=
                "<rect x=\"\(Self.f(x(since)))\" y=\"\(Self.f(y))\" width=\"\(Self.f(max(0.5, x(time) - x(since))))\" height=\"\(Self.f(max(1, rowHeight - 1)))\" fill=\"\(state.rawValue)\"/>\n"
        }
        func enter(_ id: String, _ state: Lane, at time: Double) {
            if lane[id]?.0 == state { return }
            close(id, at: time)
            lane[id] = (state, time)
        }
        for event in records {
            guard let id = event.client, index[id] != nil else { continue }
            switch (event.source, event.event) {
            case ("run", "client_started"), ("client", "connect_attempt"):
                if lane[id]?.0 != .polling { enter(id, .connecting, at: event.time) }
            case ("client", "connected"), ("client", "recovered"): enter(id, .websocket, at: event.time)
            case ("client", "closed"), ("client", "connect_failed"), ("client", "reconnect_attempt"):
                if lane[id]?.0 != .polling { enter(id, .connecting, at: event.time) }
            case ("client", "fallback"): enter(id, .polling, at: event.time)
            case ("client", "suspended"):
                before[id] = lane[id]?.0
                enter(id, .suspended, at: event.time)
            case ("client", "resumed"): enter(id, before[id] ?? .connecting, at: event.time)
            case ("client", "finished"), ("client", "stopped"): close(id, at: event.time)
            default: break
            }
        }
        for id in Array(lane.keys) { close(id, at: record.endedAt) }
        svg += overlay
        if rowHeight >= 10 {
            for (row, client) in clients.enumerated() {
                svg +=
                    "<text x=\"4\" y=\"\(Self.f(top + Double(row) * rowHeight + rowHeight - 2))\" font-size=\"9\">\(Self.escape(client.id))</text>\n"
            }
        }
        let axis = top + Double(clients.count) * rowHeight + 14
        for tick in 0...5 {
            let time = start + span * Double(tick) / 5
            svg +=
                "<text x=\"\(Self.f(x(time)))\" y=\"\(Self.f(axis))\" font-size=\"10\" text-anchor=\"middle\">\(MetricSummary.format((time - start) / record.scenario.timeScale / 1_000)) s</text>\n"
        }
        svg += "</svg>\n"
        if record.metrics.clients.count > clients.count {
            svg += "<p>First \(clients.count) of \(record.metrics.clients.count) clients shown.</p>\n"
        }
        return svg
    }

    /// A 30-bin histogram of latencies.
    private static func histogram(_ samples: [Double]) -> String {
        guard let maximum = samples.max(), !samples.isEmpty else { return "<p>No deliveries.</p>\n" }
        let bins = 30
        let width = max(maximum, 1) / Double(bins)
        var counts = Array(repeating: 0, count: bins)
        for sample in samples { counts[min(bins - 1, Int(sample / width))] += 1 }
        let tallest = Double(counts.max() ?? 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"220\" viewBox=\"0 0 640 220\">\n"
        for (bin, count) in counts.enumerated() {
            let height = Double(count) / tallest * 170
            svg +=
                "<rect x=\"\(Self.f(40 + Double(bin) * 19.5))\" y=\"\(Self.f(185 - height))\" width=\"17\" height=\"\(Self.f(height))\" fill=\"#1e88e5\"><title>\(MetricSummary.format(Double(bin) * width))–\(MetricSummary.format(Double(bin + 1) * width)) ms: \(count)</title></rect>\n"
        }
        svg +=
            "<text x=\"40\" y=\"205\" font-size=\"10\">0 ms</text><text x=\"620\" y=\"205\" font-size=\"10\" text-anchor=\"end\">\(MetricSummary.format(maximum)) ms</text>\n"
        svg += "<text x=\"36\" y=\"20\" font-size=\"10\" text-anchor=\"end\">\(Int(tallest))</text></svg>\n"
        return svg
    }

    /// Fallback and completion per group as bars.
    private static func groupBars(_ metrics: RunMetrics) -> String {
        let groups = Set(metrics.clients.map(\.group)).sorted()
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"\(30 + groups.count * 40)\">\n"
        for (row, group) in groups.enumerated() {
            let fallback = metrics.value(.fallbackRate, .rate, tags: ["group": group]) ?? 0
            let completion = metrics.value(.completionRate, .rate, tags: ["group": group]) ?? 0
            let y = 10 + Double(row) * 40
            svg += "<text x=\"4\" y=\"\(Self.f(y + 12))\" font-size=\"11\">\(Self.escape(group))</text>\n"
            svg +=
                "<rect x=\"140\" y=\"\(Self.f(y))\" width=\"\(Self.f(fallback * 400))\" height=\"14\" fill=\"#1e88e5\"><title>fallback \(MetricSummary.format(fallback))</title></rect>"
            svg +=
                "<text x=\"\(Self.f(146 + fallback * 400))\" y=\"\(Self.f(y + 11))\" font-size=\"10\">fallback \(MetricSummary.format(fallback))</text>\n"
            svg +=
                "<rect x=\"140\" y=\"\(Self.f(y + 16))\" width=\"\(Self.f(completion * 400))\" height=\"14\" fill=\"#43a047\"><title>completion \(MetricSummary.format(completion))</title></rect>"
            svg +=
                "<text x=\"\(Self.f(146 + completion * 400))\" y=\"\(Self.f(y + 27))\" font-size=\"10\">completed \(MetricSummary.format(completion))</text>\n"
        }
        return svg + "</svg>\n"
    }

    private static func f(_ value: Double) -> String {
        JSONValue.format((value * 10).rounded() / 10)
    }

    static func escape(_ text: String) -> String {
        JUnitReport.escape(text)
    }
}
