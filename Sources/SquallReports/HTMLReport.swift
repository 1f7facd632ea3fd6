import SquallFaults
import SquallScenarios

/// `report.html`: one self-contained page (inline CSS and SVG, no scripts, no network) with the verdict, the gates
/// and the clients that failed each, clients by state over time and a per-client timeline (WebSocket /
/// reconnecting / polling / suspended) with the fault windows shaded, connection attempts per second, latency as a
/// histogram and a CDF, and fallback and delivery counts per group.
enum HTMLReport {
    /// The page for one run.
    static func page(_ record: RunRecord) -> String {
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
            svg{background:#fafafa;border:1px solid #eee}.row{display:flex;gap:1em;flex-wrap:wrap}
            </style></head><body>
            <h1>\(Self.escape(record.scenario.name)) <span class="\(verdict)">\(verdict)</span></h1>
            <p>\(Self.escape(record.scenario.description))</p>
            <p>Seed \(record.scenario.seed) · timeScale \(MetricSummary.format(record.scenario.timeScale)) · \(metrics.clients.count) clients · \(MetricSummary.format(metrics.durationMilliseconds / 1_000)) s scenario time (\(Self.escape(record.endReason))) · plan \(record.planDigest) · Squall \(Self.escape(record.version)). All times are scenario time.</p>
            \(HarnessReport.explanation(record).map { "<p class=\"note\">\(Self.escape($0))</p>" } ?? "")
            <h2>Gates</h2><table><tr><th>metric</th><th>gate</th><th>observed</th><th>result</th><th>note</th></tr>

            """
        for result in record.gates {
            let observed = result.observed.map { MetricSummary.format($0) } ?? "no samples"
            html +=
                "<tr><td><code>\(Self.escape(result.gate.key))</code></td><td><code>\(Self.escape(result.gate.expression))</code></td><td class=\"num\">\(observed)</td><td class=\"\(result.verdict == .passed ? "" : "fail")\">\(Self.label(result))</td><td>\(Self.escape(GateNote.text(result, in: record) ?? ""))</td></tr>\n"
        }
        html += "</table>\n"
        let timelines = FailingClients.timelines(in: record)
        for result in record.gates {
            let failing = FailingClients.clients(for: result, in: metrics)
            guard !failing.isEmpty else { continue }
            html +=
                "<h3>Clients that failed <code>\(Self.escape(result.gate.key))</code> <code>\(Self.escape(result.gate.expression))</code></h3><ul>\n"
            for client in failing.prefix(FailingClients.shown) {
                let events = (timelines[client.id] ?? []).map(Self.escape)
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
        let states = record.clientStates
        let legend = ClientStateTimeline.State.allCases.filter { $0 != .eventStream || states.statesSeen.contains($0) }
            .map {
                "<span style=\"background:\(Self.colour($0))\"></span>\(Self.label($0))"
            }
        html +=
            "<h2>Clients by state</h2>\n<p class=\"legend\">\(legend.joined())<span style=\"background:rgba(229,57,53,.18)\"></span>fault window, handoff blackout, server downtime</p>\n"
        html += HTMLCharts.clientsByState(states, record: record)
        html += "<h2>Client timeline</h2>\n"
        html += Self.timeline(states, record: record)
        html +=
            "<h2>Connection attempts per second</h2>\n<p class=\"legend\"><span style=\"background:#fb8c00\"></span>WebSocket connect attempts<span style=\"background:#e53935\"></span>the busiest second<span style=\"background:#1e88e5;height:.2em\"></span>polls</p>\n"
        html += HTMLCharts.attemptsPerSecond(metrics)
        let latencies = metrics.samples(.updateLatency)
        html += "<h2>Update latency</h2>\n<div class=\"row\">"
        html += HTMLCharts.histogram(latencies) + HTMLCharts.latencyCDF(latencies) + "</div>\n"
        html +=
            "<h2>Per group</h2><table><tr><th>group</th><th>clients</th><th>fell back</th><th>completed</th><th>delivered (WebSocket)</th><th>delivered (polling)</th><th>duplicates</th><th>lost</th></tr>\n"
        for group in Set(metrics.clients.map(\.group)).sorted() {
            let clients = metrics.clients(matching: ["group": group])
            let polling = clients.reduce(0) { $0 + $1.deliveredByPolling }
            let total = clients.reduce(0) { $0 + $1.delivered }
            html +=
                "<tr><td>\(Self.escape(group))</td><td class=\"num\">\(clients.count)</td><td class=\"num\">\(clients.filter(\.fellBack).count)</td><td class=\"num\">\(clients.filter { $0.outcome == "completed" }.count)</td><td class=\"num\">\(total - polling)</td><td class=\"num\">\(polling)</td><td class=\"num\">\(clients.reduce(0) { $0 + $1.duplicates })</td><td class=\"num\">\(clients.reduce(0) { $0 + $1.lost })</td></tr>\n"
        }
        html += "</table>\n" + HTMLCharts.groupBars(metrics)
        html +=
            "<h2>Harness</h2><p>\(Self.escape(record.harness.summary)). Bound: \(Self.escape(record.harness.bound.reason)).</p>\n"
        html += "<h2>Metrics</h2><table><tr><th>metric</th><th>value</th></tr>\n"
        for metric in metrics.reported {
            html +=
                "<tr><td><code>\(metric.rawValue)</code></td><td>\(Self.escape(MetricSummary.text(metric, metrics)))</td></tr>\n"
        }
        html += "</table>\n</body></html>\n"
        return html
    }

    /// The colour of each state, in the lanes, the legend and the clients-by-state chart.
    static func colour(_ state: ClientStateTimeline.State) -> String {
        switch state {
        case .connecting: "#fb8c00"
        case .websocket: "#43a047"
        case .eventStream: "#00897b"
        case .polling: "#1e88e5"
        case .suspended: "#8e24aa"
        case .done: "#bdbdbd"
        }
    }

    /// A state's name in legends.
    static func label(_ state: ClientStateTimeline.State) -> String {
        switch state {
        case .connecting: "connecting / reconnecting"
        case .websocket: "WebSocket"
        case .eventStream: "event stream"
        case .polling: "polling"
        case .suspended: "suspended"
        case .done: "done"
        }
    }

    /// One row per client (up to 200), coloured by state over time, with fault windows, handoff blackouts and
    /// server downtimes shaded over the lanes.
    private static func timeline(_ states: ClientStateTimeline, record: RunRecord) -> String {
        let start = record.startedAt
        let span = max(1, record.endedAt - start)
        let clients = Array(record.metrics.clients.prefix(ClientStateTimeline.laneCount))
        let rowHeight = clients.count > 60 ? 3.0 : 10.0
        let width = 1000.0
        let left = 110.0
        let top = 10.0
        let height = top + Double(clients.count) * rowHeight + 30
        func x(_ time: Double) -> Double { left + (time - start) / span * (width - left - 10) }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
        for (row, client) in clients.enumerated() {
            let y = top + Double(row) * rowHeight
            for interval in states.intervals[client.id] ?? [] where interval.state != .done {
                svg +=
                    "<rect x=\"\(Self.f(x(interval.since)))\" y=\"\(Self.f(y))\" width=\"\(Self.f(max(0.5, x(interval.until) - x(interval.since))))\" height=\"\(Self.f(max(1, rowHeight - 1)))\" fill=\"\(Self.colour(interval.state))\"/>\n"
            }
        }
        // Fault windows, handoff blackouts and server downtimes go on top of the lanes, translucent, so they show
        // whatever state the clients were in.
        svg += Self.shading(record, x: x, top: top, height: Double(clients.count) * rowHeight)
        if rowHeight >= 10 {
            for (row, client) in clients.enumerated() {
                svg +=
                    "<text x=\"4\" y=\"\(Self.f(top + Double(row) * rowHeight + rowHeight - 2))\" font-size=\"9\">\(Self.escape(client.id))</text>\n"
            }
        }
        svg += Self.timeAxis(record, x: x, y: top + Double(clients.count) * rowHeight + 14)
        svg += "</svg>\n"
        if record.metrics.clients.count > clients.count {
            svg += "<p>First \(clients.count) of \(record.metrics.clients.count) clients shown.</p>\n"
        }
        return svg
    }

    /// Translucent bands over a chart for every fault window, handoff blackout and server-restart downtime, with a
    /// line at each handoff and restart.
    static func shading(_ record: RunRecord, x: (Double) -> Double, top: Double, height: Double) -> String {
        var overlay = ""
        func shade(from since: Double, to until: Double, _ title: String) {
            overlay +=
                "<rect x=\"\(Self.f(x(since)))\" y=\"\(Self.f(top))\" width=\"\(Self.f(max(1, x(until) - x(since))))\" height=\"\(Self.f(height))\" fill=\"rgba(229,57,53,.18)\"><title>\(Self.escape(title))</title></rect>\n"
        }
        var openFaults: [String: Double] = [:]
        for line in record.runEvents {
            guard case .run(let event) = line.event else { continue }
            let time = line.time
            let length: String
            switch event {
            case .faultApplied(_, _, let name, _, _, _, _, _):
                openFaults[name] = time
                continue
            case .faultLifted(let name, _, _):
                if let since = openFaults.removeValue(forKey: name) { shade(from: since, to: time, name) }
                continue
            case .handoff(_, _, _, let blackout, _, _, _):
                length = blackout
            case .serverRestart(_, _, let downtime):
                length = downtime
            case .scenario, .clientStarted, .clientFailedToStart, .clientProcess, .clientExited, .clientTerminated,
                .clientKilled, .clientOutputMalformed, .faultNotApplied, .profile, .clientsSuspended, .serverStarted,
                .serverReady, .serverExited, .publicationsUnknown, .harnessLag, .runEnded:
                continue
            }
            // A handoff or a restart: a line at its moment.
            let name = event.name.rawValue
            overlay +=
                "<line x1=\"\(Self.f(x(time)))\" x2=\"\(Self.f(x(time)))\" y1=\"\(Self.f(top))\" y2=\"\(Self.f(top + height))\" stroke=\"#e53935\" stroke-width=\"2\"><title>\(name)</title></line>\n"
            // The blackout (handoff) or downtime (restart), logged in scenario time.
            let window = Duration(parsing: length) ?? .zero
            if window > .zero {
                let title = event.name == .handoff ? "handoff blackout" : "server restart downtime"
                shade(
                    from: time,
                    to: time + ScenarioClock(record.scenario).played(milliseconds: window.milliseconds),
                    title
                )
            }
        }
        for (name, since) in openFaults.sorted(by: { $0.key < $1.key }) { shade(from: since, to: record.endedAt, name) }
        return overlay
    }

    /// Six ticks of scenario seconds under a chart whose x axis is the run.
    static func timeAxis(_ record: RunRecord, x: (Double) -> Double, y: Double) -> String {
        let span = max(1, record.endedAt - record.startedAt)
        var svg = ""
        for tick in 0...5 {
            let time = record.startedAt + span * Double(tick) / 5
            svg +=
                "<text x=\"\(Self.f(x(time)))\" y=\"\(Self.f(y))\" font-size=\"10\" text-anchor=\"middle\">\(MetricSummary.format((ScenarioClock(record.scenario).scenarioMilliseconds(from: record.startedAt, to: time) / 100).rounded() / 10)) s</text>\n"
        }
        return svg
    }

    static func f(_ value: Double) -> String {
        JSONValue.format((value * 10).rounded() / 10)
    }

    /// A gate's result as the table shows it.
    private static func label(_ result: GateResult) -> String {
        switch result.verdict {
        case .passed: "pass"
        case .failed: "FAIL"
        case .inconclusive: result.passed ? "pass (inconclusive)" : "fail (inconclusive)"
        case .interrupted: "interrupted"
        }
    }

    static func escape(_ text: String) -> String {
        JUnitReport.escape(text)
    }
}
