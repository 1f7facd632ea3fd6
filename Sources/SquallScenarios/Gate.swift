import Foundation
import SquallFaults
import SquallReferenceClient

/// One pass/fail check in k6's threshold grammar: `"fallback_rate{strategy:resilient}": ["rate<0.05"]` is one gate
/// per expression.
public struct Gate: Sendable, Hashable {
    /// The key as written, e.g. `fallback_rate{strategy:resilient}`.
    public var key: String
    /// The expression as written, e.g. `rate<0.05`.
    public var expression: String
    /// The metric.
    public var metric: Metric
    /// Tag filters (`strategy`, `group`, `client`).
    public var tags: [String: String]
    /// What is computed from the metric.
    public var aggregation: Aggregation
    /// How it is compared.
    public var comparison: Comparison
    /// With what.
    public var threshold: Double
    /// For a `{window:30s}` tag: the length of the sliding window (scenario time) whose worst value is judged
    /// instead of the whole run's, so errors bunched at the end cannot hide in the run's average.
    public var window: Duration?
    /// Whether the gate may pass without evidence (`"allowEmpty": true`): a trend with no samples, a client group
    /// that never received a message. Without it such a gate fails (or, on an overloaded harness, is inconclusive).
    public var allowEmpty = false

    /// What a gate computes from a metric's samples.
    public enum Aggregation: Sendable, Hashable, CustomStringConvertible {
        /// Fraction of true samples (rate metrics).
        case rate
        /// Number of samples (counters: their total).
        case count
        /// The Nth percentile (trends).
        case percentile(Double)
        /// Mean (trends).
        case average
        /// Smallest (trends).
        case minimum
        /// Largest (trends).
        case maximum
        /// Median (trends).
        case median

        public var description: String {
            switch self {
            case .rate: "rate"
            case .count: "count"
            case .percentile(let p): "p(\(JSONValue.format(p)))"
            case .average: "avg"
            case .minimum: "min"
            case .maximum: "max"
            case .median: "med"
            }
        }
    }

    /// A comparison operator.
    public enum Comparison: String, Sendable, Hashable, CaseIterable {
        case lessOrEqual = "<="
        case greaterOrEqual = ">="
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case greater = ">"

        /// Whether `value` passes against `threshold`.
        public func holds(_ value: Double, _ threshold: Double) -> Bool {
            switch self {
            case .less: value < threshold
            case .lessOrEqual: value <= threshold
            case .greater: value > threshold
            case .greaterOrEqual: value >= threshold
            case .equal: value == threshold
            case .notEqual: value != threshold
            }
        }
    }

    /// A gate built in code (a step's expectation).
    init(
        key: String,
        expression: String,
        metric: Metric,
        tags: [String: String],
        aggregation: Aggregation,
        comparison: Comparison,
        threshold: Double
    ) {
        self.key = key
        self.expression = expression
        self.metric = metric
        self.tags = tags
        self.aggregation = aggregation
        self.comparison = comparison
        self.threshold = threshold
    }

    /// Reads one gate.
    ///
    /// - Parameters:
    ///   - key: `metric` or `metric{tag:value,…}`.
    ///   - expression: `aggregation op number`, e.g. `p(95)<500`.
    ///   - path: the JSON path of the expression, for errors.
    /// - Throws: ``FaultError`` naming the path, what was expected and what was found.
    public init(key: String, expression: String, path: String) throws(FaultError) {
        self.key = key
        self.expression = expression
        var name = Substring(key)
        var tags: [String: String] = [:]
        if let open = key.firstIndex(of: "{") {
            guard key.hasSuffix("}") else {
                throw FaultError.invalidValue(
                    path: path,
                    expected: "a metric with tags like fallback_rate{strategy:resilient}",
                    found: "\"\(key)\""
                )
            }
            name = key[..<open]
            let inner = key[key.index(after: open)..<key.index(before: key.endIndex)]
            for pair in inner.split(separator: ",") {
                let parts = pair.split(separator: ":", maxSplits: 1).map { $0.trimmingSpaces }
                guard parts.count == 2,
                    ["strategy", "group", "client", "transport", "step", "window"].contains(parts[0]),
                    !parts[1].isEmpty
                else {
                    throw FaultError.invalidValue(
                        path: path,
                        expected:
                            "tags strategy:…, group:…, client:…, transport:…, window:… or (on step metrics) step:…",
                        found: "\"\(pair)\""
                    )
                }
                if parts[0] == "transport" && HybridClientStateMachine.Transport(rawValue: parts[1]) == nil {
                    throw FaultError.invalidValue(
                        path: path,
                        expected: "transport:websocket, transport:sse or transport:polling",
                        found: "\"\(pair)\""
                    )
                }
                if parts[0] == "window" {
                    guard let length = Duration(parsing: parts[1]), length > .zero else {
                        throw FaultError.invalidValue(
                            path: path,
                            expected: "a window length like window:30s",
                            found: "\"\(pair)\""
                        )
                    }
                    self.window = length
                    continue
                }
                tags[parts[0]] = parts[1]
            }
        }
        guard let metric = Metric(rawValue: String(name)) else {
            throw FaultError.invalidValue(
                path: path,
                expected: "a metric (\(Metric.allCases.map(\.rawValue).joined(separator: ", ")))",
                found: "\"\(name)\""
            )
        }
        if tags["step"] != nil && !metric.isPerStep {
            throw FaultError.invalidValue(
                path: path,
                expected: "a step tag only on step_recovery_ms, step_fallback_ms or step_lost_messages",
                found: "\"\(key)\""
            )
        }
        if (!tags.isEmpty || self.window != nil) && !metric.isPerClient {
            throw FaultError.invalidValue(
                path: path,
                expected: "no tags: \(metric.rawValue) is run-wide",
                found: "\"\(key)\""
            )
        }
        self.metric = metric
        self.tags = tags
        let text = expression.filter { $0 != " " }
        guard let comparison = Comparison.allCases.first(where: { text.contains($0.rawValue) }),
            let range = text.range(of: comparison.rawValue)
        else {
            throw FaultError.invalidValue(
                path: path,
                expected: "an expression like \"rate<0.05\", \"count==0\" or \"p(95)<500\"",
                found: "\"\(expression)\""
            )
        }
        let left = String(text[..<range.lowerBound])
        let right = String(text[range.upperBound...])
        guard let threshold = Double(right), threshold.isFinite else {
            throw FaultError.invalidValue(
                path: path,
                expected: "a number after \(comparison.rawValue)",
                found: "\"\(right)\""
            )
        }
        let aggregation: Aggregation
        switch left {
        case "rate": aggregation = .rate
        case "count": aggregation = .count
        case "avg": aggregation = .average
        case "min": aggregation = .minimum
        case "max": aggregation = .maximum
        case "med": aggregation = .median
        default:
            guard left.hasPrefix("p("), left.hasSuffix(")"), let p = Double(left.dropFirst(2).dropLast()),
                (0...100).contains(p)
            else {
                throw FaultError.invalidValue(
                    path: path,
                    expected: "rate, count, avg, min, max, med or p(N) before the operator",
                    found: "\"\(left)\""
                )
            }
            aggregation = .percentile(p)
        }
        let allowed: String
        switch (metric.kind, aggregation) {
        case (.rate, .rate), (.counter, .count), (.trend, .percentile), (.trend, .average), (.trend, .minimum),
            (.trend, .maximum), (.trend, .median), (.trend, .count):
            allowed = ""
        case (.rate, _): allowed = "rate"
        case (.counter, _): allowed = "count"
        case (.trend, _): allowed = "p(N), avg, min, max, med or count"
        }
        guard allowed.isEmpty else {
            throw FaultError.invalidValue(
                path: path,
                expected: "\(allowed) for the \(metric.kind.rawValue) metric \(metric.rawValue)",
                found: "\"\(left)\""
            )
        }
        if self.window != nil {
            switch (metric, aggregation) {
            case (.connectRatePeak, _), (.pollingRatePeak, _):
                throw FaultError.invalidValue(
                    path: path,
                    expected: "no window: \(metric.rawValue) is already the busiest second",
                    found: "\"\(key)\""
                )
            case (_, .rate), (_, .count):
                break
            case (_, .percentile), (_, .average), (_, .minimum), (_, .maximum), (_, .median):
                throw FaultError.invalidValue(
                    path: path,
                    expected: "a window only on rate and count gates",
                    found: "\"\(left)\" with \"\(key)\""
                )
            }
        }
        self.aggregation = aggregation
        self.comparison = comparison
        self.threshold = threshold
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

extension Gate {
    /// Reads one gate from its JSON form: an expression string (`"rate<0.05"`) or, as k6 allows, an object
    /// `{"threshold": "count==0", "allowEmpty": true}`.
    ///
    /// - Throws: ``FaultError`` naming the path (and the member) of what is wrong.
    public init(key: String, json: JSONValue, path: String) throws(FaultError) {
        switch json {
        case .string(let text):
            try self.init(key: key, expression: text, path: path)
        case .object:
            var reader = try JSONObjectReader(json, path: path)
            let text = try reader.requiredString("threshold")
            try self.init(key: key, expression: text, path: "\(path).threshold")
            self.allowEmpty = try reader.bool("allowEmpty") ?? false
            try reader.rejectUnknownKeys()
        case .null, .bool, .number, .array:
            throw FaultError.invalidValue(
                path: path,
                expected: "a string like \"rate<0.05\" or {\"threshold\": \"count==0\", \"allowEmpty\": true}",
                found: json.typeDescription
            )
        }
    }
}
