import SquallFaults
import SquallScenarios

/// A metric summarised for reports: a rate with its counts, a counter's total, or a trend's percentiles.
enum MetricSummary {
    /// Every metric for the clients `tags` selects, as JSON members in catalogue order.
    static func json(_ metrics: RunMetrics, tags: [String: String] = [:]) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for metric in metrics.reported where tags.isEmpty || metric.isPerClient {
            members[metric.rawValue] = Self.json(metric, metrics, tags: tags)
        }
        return .object(members)
    }

    /// One metric as JSON.
    static func json(_ metric: Metric, _ metrics: RunMetrics, tags: [String: String] = [:]) -> JSONValue {
        switch metric.kind {
        case .rate:
            let value = metrics.value(metric, .rate, tags: tags)
            return .object(["rate": value.map { .number(Self.round($0)) } ?? .null])
        case .counter:
            // A peak-rate metric's count and its second come from one computation.
            if let peak = metrics.peak(metric, tags: tags) {
                var members: [String: JSONValue] = ["count": .number(Double(peak.count))]
                if peak.count > 0 { members["at_ms"] = .number(peak.at) }
                return .object(members)
            }
            return .object(["count": .number(metrics.value(metric, .count, tags: tags) ?? 0)])
        case .trend:
            let samples = metrics.samples(metric, tags: tags).sorted()
            var members: [String: JSONValue] = ["count": .number(Double(samples.count))]
            let never = samples.filter { $0 == .infinity }.count
            if never > 0 { members["never"] = .number(Double(never)) }
            for (name, aggregation) in Self.trendColumns {
                members[name] =
                    RunMetrics.aggregate(sorted: samples, aggregation).map { .number(Self.round($0)) } ?? .null
            }
            return .object(members)
        }
    }

    /// The trend aggregations reports show.
    static let trendColumns: [(String, Gate.Aggregation)] = [
        ("avg", .average), ("min", .minimum), ("med", .median), ("p(90)", .percentile(90)), ("p(95)", .percentile(95)),
        ("p(99)", .percentile(99)), ("max", .maximum),
    ]

    /// One metric as short text: `0.02`, `3`, `p(95) 412.5 ms (n=400)`.
    static func text(_ metric: Metric, _ metrics: RunMetrics, tags: [String: String] = [:]) -> String {
        switch metric.kind {
        case .rate:
            return metrics.value(metric, .rate, tags: tags).map { Self.format($0) } ?? "no samples"
        case .counter:
            if let peak = metrics.peak(metric, tags: tags) {
                guard peak.count > 0 else { return "0" }
                return "\(peak.count) in the second from \(Self.format(peak.at / 1_000)) s"
            }
            return Self.format(metrics.value(metric, .count, tags: tags) ?? 0)
        case .trend:
            let samples = metrics.samples(metric, tags: tags).sorted()
            guard !samples.isEmpty else { return "no samples" }
            let p50 = RunMetrics.aggregate(sorted: samples, .median) ?? 0
            let p95 = RunMetrics.aggregate(sorted: samples, .percentile(95)) ?? 0
            let max = RunMetrics.aggregate(sorted: samples, .maximum) ?? 0
            return "med \(Self.format(p50)) · p(95) \(Self.format(p95)) · max \(Self.format(max)) (n=\(samples.count))"
        }
    }

    static func round(_ value: Double) -> Double {
        (value * 1_000).rounded() / 1_000
    }

    /// A value for people: rounded to three decimals; an infinite duration (a client that never recovered or never
    /// fell back) is "never".
    static func format(_ value: Double) -> String {
        value == .infinity ? "never" : JSONValue.format(Self.round(value))
    }
}
