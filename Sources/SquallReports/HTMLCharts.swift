import Foundation
import SquallFaults
import SquallScenarios

/// The report page's charts, each one inline SVG (no scripts): clients by state over time, connection attempts and
/// polls per second, latency as a histogram and as a CDF on a log axis, fallback and completion per group.
enum HTMLCharts {
    /// The order states are stacked in, bottom first.
    static let stackOrder: [ClientStateTimeline.State] = [
        .websocket, .eventStream, .connecting, .polling, .suspended, .done,
    ]

    /// Clients by state over the run, stacked (WebSocket at the bottom, done on top), with the timeline's fault
    /// windows shaded.
    static func clientsByState(_ states: ClientStateTimeline, record: RunRecord) -> String {
        let total = max(1, states.clientCount)
        let (width, height, left, top) = (1000.0, 200.0, 40.0, 10.0)
        let span = max(1, record.endedAt - record.startedAt)
        let samples = 240
        func x(_ time: Double) -> Double { left + (time - record.startedAt) / span * (width - left - 10) }
        let times = (0...samples).map { record.startedAt + span * Double($0) / Double(samples) }
        let counts = states.counts(at: times)
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(top + height + 30))\" viewBox=\"0 0 \(Int(width)) \(Int(top + height + 30))\">\n"
        var below = Array(repeating: 0, count: times.count)
        func y(_ count: Int) -> Double { top + height - Double(count) / Double(total) * height }
        for state in Self.stackOrder {
            let above = zip(below, counts).map { $0 + ($1[state] ?? 0) }
            defer { below = above }
            guard above != below else { continue }
            var points = zip(times, above).map { "\(HTMLReport.f(x($0))),\(HTMLReport.f(y($1)))" }
            points += zip(times, below).reversed().map { "\(HTMLReport.f(x($0))),\(HTMLReport.f(y($1)))" }
            svg +=
                "<polygon points=\"\(points.joined(separator: " "))\" fill=\"\(HTMLReport.colour(state))\"><title>\(state)</title></polygon>\n"
        }
        svg += HTMLReport.shading(record, x: x, top: top, height: height)
        svg +=
            "<text x=\"\(HTMLReport.f(left - 4))\" y=\"\(HTMLReport.f(top + 8))\" font-size=\"10\" text-anchor=\"end\">\(total)</text><text x=\"\(HTMLReport.f(left - 4))\" y=\"\(HTMLReport.f(top + height))\" font-size=\"10\" text-anchor=\"end\">0</text>\n"
        svg += HTMLReport.timeAxis(record, x: x, y: top + height + 14)
        return svg + "</svg>\n"
    }

    /// WebSocket connect attempts (bars) and polls (line) in each second of scenario time, the busiest second of
    /// attempts marked: the reconnect storm a handoff or a restart sends at the server.
    static func attemptsPerSecond(_ metrics: RunMetrics) -> String {
        let seconds = max(1, Int((metrics.durationMilliseconds / 1_000).rounded(.up)))
        func perSecond(_ times: [Double]) -> [Int] {
            var bins = Array(repeating: 0, count: seconds)
            for time in times { bins[min(seconds - 1, max(0, Int(time / 1_000)))] += 1 }
            return bins
        }
        let attempts = perSecond(metrics.clients.flatMap(\.connectAttemptTimes))
        let polls = perSecond(metrics.clients.flatMap(\.pollTimes))
        let tallest = max(1, attempts.max() ?? 0, polls.max() ?? 0)
        let (width, height, left, top) = (1000.0, 160.0, 40.0, 10.0)
        let step = (width - left - 10) / Double(seconds)
        func y(_ count: Int) -> Double { top + height - Double(count) / Double(tallest) * height }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(top + height + 30))\" viewBox=\"0 0 \(Int(width)) \(Int(top + height + 30))\">\n"
        let peak = RunMetrics.peakPerSecond(metrics.clients.flatMap(\.connectAttemptTimes))
        for (second, count) in attempts.enumerated() where count > 0 {
            let isPeak = count == peak.count && Double(second) * 1_000 == peak.at
            svg +=
                "<rect x=\"\(HTMLReport.f(left + Double(second) * step))\" y=\"\(HTMLReport.f(y(count)))\" width=\"\(HTMLReport.f(max(0.5, step * 0.8)))\" height=\"\(HTMLReport.f(top + height - y(count)))\" fill=\"\(isPeak ? "#e53935" : "#fb8c00")\"><title>\(second) s: \(count) connect attempts\(isPeak ? " (peak)" : "")</title></rect>\n"
        }
        let line = polls.enumerated().map { "\(HTMLReport.f(left + (Double($0) + 0.4) * step)),\(HTMLReport.f(y($1)))" }
        svg +=
            "<polyline points=\"\(line.joined(separator: " "))\" fill=\"none\" stroke=\"#1e88e5\" stroke-width=\"1.5\"><title>polls per second</title></polyline>\n"
        svg +=
            "<text x=\"\(HTMLReport.f(left - 4))\" y=\"\(HTMLReport.f(top + 8))\" font-size=\"10\" text-anchor=\"end\">\(tallest)</text><text x=\"\(HTMLReport.f(left - 4))\" y=\"\(HTMLReport.f(top + height))\" font-size=\"10\" text-anchor=\"end\">0</text>\n"
        for tick in 0...5 {
            let second = Double(seconds) * Double(tick) / 5
            svg +=
                "<text x=\"\(HTMLReport.f(left + second * step))\" y=\"\(HTMLReport.f(top + height + 14))\" font-size=\"10\" text-anchor=\"middle\">\(MetricSummary.format(second)) s</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// The share of deliveries at or below each latency, on a log axis (decade grid lines, p50/p95/p99 marked), so
    /// the tail a histogram flattens is readable.
    static func latencyCDF(_ samples: [Double]) -> String {
        let sorted = samples.filter(\.isFinite).sorted()
        guard let largest = sorted.last else { return "" }
        let floor = max(0.1, sorted.first { $0 > 0 } ?? 0.1)
        let low = log10(floor).rounded(.down)
        let high = max(low + 1, log10(max(largest, floor)).rounded(.up))
        let (width, height, left, top) = (540.0, 185.0, 40.0, 10.0)
        func position(_ decades: Double) -> Double { left + (decades - low) / (high - low) * (width - left - 10) }
        /// A sample's position; one below the smallest positive sample (a zero latency) sits with it.
        func x(_ value: Double) -> Double { position(log10(max(value, floor))) }
        func y(_ share: Double) -> Double { top + height - share * (height - 10) }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"220\" viewBox=\"0 0 \(Int(width)) 220\">\n"
        var decade = low
        while decade <= high {
            let value = pow(10, decade)
            svg +=
                "<line x1=\"\(HTMLReport.f(position(decade)))\" x2=\"\(HTMLReport.f(position(decade)))\" y1=\"\(HTMLReport.f(top))\" y2=\"\(HTMLReport.f(top + height))\" stroke=\"#ddd\"/><text x=\"\(HTMLReport.f(position(decade)))\" y=\"\(HTMLReport.f(top + height + 14))\" font-size=\"10\" text-anchor=\"middle\">\(MetricSummary.format(value)) ms</text>\n"
            decade += 1
        }
        for p in [50.0, 95, 99] {
            let value = RunMetrics.percentile(sorted, p)
            svg +=
                "<line x1=\"\(HTMLReport.f(left))\" x2=\"\(HTMLReport.f(width - 10))\" y1=\"\(HTMLReport.f(y(p / 100)))\" y2=\"\(HTMLReport.f(y(p / 100)))\" stroke=\"#999\" stroke-dasharray=\"3,3\"/><text x=\"\(HTMLReport.f(left - 4))\" y=\"\(HTMLReport.f(y(p / 100) + 3))\" font-size=\"9\" text-anchor=\"end\">p\(Int(p))</text><circle cx=\"\(HTMLReport.f(x(value)))\" cy=\"\(HTMLReport.f(y(p / 100)))\" r=\"3\" fill=\"#c62828\"><title>p(\(Int(p))) \(MetricSummary.format(value)) ms</title></circle>\n"
        }
        // At most about 500 points: every sample of a small run, evenly spaced ranks of a large one.
        let stride = max(1, sorted.count / 500)
        var points: [String] = []
        for index in Swift.stride(from: 0, to: sorted.count, by: stride) + [sorted.count - 1] {
            points.append(
                "\(HTMLReport.f(x(sorted[index]))),\(HTMLReport.f(y(Double(index + 1) / Double(sorted.count))))"
            )
        }
        svg +=
            "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#1e88e5\" stroke-width=\"2\"><title>share of deliveries at or below a latency</title></polyline>\n"
        return svg + "</svg>\n"
    }

    /// A 30-bin histogram of latencies.
    static func histogram(_ samples: [Double]) -> String {
        guard let maximum = samples.max(), !samples.isEmpty else { return "<p>No deliveries.</p>\n" }
        let bins = 30
        let width = max(maximum, 1) / Double(bins)
        var counts = Array(repeating: 0, count: bins)
        for sample in samples { counts[min(bins - 1, Int(sample / width))] += 1 }
        let tallest = Double(counts.max() ?? 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"540\" height=\"220\" viewBox=\"0 0 540 220\">\n"
        for (bin, count) in counts.enumerated() {
            let height = Double(count) / tallest * 170
            svg +=
                "<rect x=\"\(HTMLReport.f(40 + Double(bin) * 16.3))\" y=\"\(HTMLReport.f(185 - height))\" width=\"14\" height=\"\(HTMLReport.f(height))\" fill=\"#1e88e5\"><title>\(MetricSummary.format(Double(bin) * width))–\(MetricSummary.format(Double(bin + 1) * width)) ms: \(count)</title></rect>\n"
        }
        svg +=
            "<text x=\"40\" y=\"205\" font-size=\"10\">0 ms</text><text x=\"530\" y=\"205\" font-size=\"10\" text-anchor=\"end\">\(MetricSummary.format(maximum)) ms</text>\n"
        svg += "<text x=\"36\" y=\"20\" font-size=\"10\" text-anchor=\"end\">\(Int(tallest))</text></svg>\n"
        return svg
    }

    /// Fallback and completion per group as bars.
    static func groupBars(_ metrics: RunMetrics) -> String {
        let groups = Set(metrics.clients.map(\.group)).sorted()
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"\(30 + groups.count * 40)\">\n"
        for (row, group) in groups.enumerated() {
            let fallback = metrics.value(.fallbackRate, .rate, tags: ["group": group]) ?? 0
            let completion = metrics.value(.completionRate, .rate, tags: ["group": group]) ?? 0
            let y = 10 + Double(row) * 40
            svg += "<text x=\"4\" y=\"\(HTMLReport.f(y + 12))\" font-size=\"11\">\(HTMLReport.escape(group))</text>\n"
            svg +=
                "<rect x=\"140\" y=\"\(HTMLReport.f(y))\" width=\"\(HTMLReport.f(fallback * 400))\" height=\"14\" fill=\"#1e88e5\"><title>fallback \(MetricSummary.format(fallback))</title></rect>"
            svg +=
                "<text x=\"\(HTMLReport.f(146 + fallback * 400))\" y=\"\(HTMLReport.f(y + 11))\" font-size=\"10\">fallback \(MetricSummary.format(fallback))</text>\n"
            svg +=
                "<rect x=\"140\" y=\"\(HTMLReport.f(y + 16))\" width=\"\(HTMLReport.f(completion * 400))\" height=\"14\" fill=\"#43a047\"><title>completion \(MetricSummary.format(completion))</title></rect>"
            svg +=
                "<text x=\"\(HTMLReport.f(146 + completion * 400))\" y=\"\(HTMLReport.f(y + 27))\" font-size=\"10\">completed \(MetricSummary.format(completion))</text>\n"
        }
        return svg + "</svg>\n"
    }
}
