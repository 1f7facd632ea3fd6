/// One attribute a fault type accepts: its name, unit, default and lower bound.
public struct FaultAttribute: Sendable, Hashable {
    /// The unit an attribute is given in.
    public enum Unit: Sendable, Hashable {
        /// Milliseconds: a JSON number of ms, or a duration string such as `"250ms"` or `"2s"`.
        case milliseconds
        /// Microseconds: a JSON number of µs, or a duration string.
        case microseconds
        /// A whole number of bytes.
        case bytes
        /// Kilobytes per second, KB = 1000 bytes (Toxiproxy's unit); fractions allowed.
        case kilobytesPerSecond
        /// A whole count.
        case count
        /// A plain number (a probability, for instance).
        case number
        /// Text; when `choices` is non-empty, one of them.
        case text(choices: [String])
    }

    /// The JSON key, e.g. `latency`.
    public var name: String
    /// The unit of the value.
    public var unit: Unit
    /// The value used when the attribute is omitted.
    public var defaultValue: Double
    /// The smallest accepted value.
    public var minimum: Double
    /// What the attribute does, for the README and `squall faults`.
    public var summary: String
    /// The largest accepted value, when tighter than the unit's own bound.
    public var explicitMaximum: Double?
    /// The default of a text attribute.
    public var defaultText: String

    /// Describes an attribute.
    public init(
        _ name: String,
        _ unit: Unit,
        default defaultValue: Double = 0,
        minimum: Double = 0,
        maximum: Double? = nil,
        _ summary: String
    ) {
        self.name = name
        self.unit = unit
        self.defaultValue = defaultValue
        self.minimum = minimum
        self.summary = summary
        self.explicitMaximum = maximum
        self.defaultText = ""
    }

    /// Describes a text attribute.
    public init(_ name: String, text defaultText: String, choices: [String] = [], _ summary: String) {
        self.init(name, .text(choices: choices), summary)
        self.defaultText = defaultText
    }

    /// Whether the attribute holds text rather than a number.
    public var isText: Bool {
        if case .text = self.unit { return true }
        return false
    }

    /// The unit's short name, for listings.
    public var unitName: String {
        switch self.unit {
        case .milliseconds: return "ms"
        case .microseconds: return "µs"
        case .bytes: return "bytes"
        case .kilobytesPerSecond: return "KB/s"
        case .count: return "count"
        case .number: return "number"
        case .text(let choices): return choices.isEmpty ? "text" : choices.joined(separator: "|")
        }
    }

    /// Reads this text attribute's value from JSON.
    ///
    /// - Throws: ``FaultError/invalidValue(path:expected:found:)`` when it is not a string or not one of the choices.
    public func readText(_ value: JSONValue, path: String) throws(FaultError) -> String {
        guard case .text(let choices) = self.unit else {
            preconditionFailure("readText on a numeric attribute")
        }
        guard case .string(let text) = value, choices.isEmpty || choices.contains(text.lowercased()) else {
            throw FaultError.invalidValue(path: path, expected: self.expectation, found: value.typeDescription)
        }
        return choices.isEmpty ? text : text.lowercased()
    }

    /// The largest accepted value: a day for durations, 2^53 otherwise, so no value can overflow a timer.
    public var maximum: Double {
        if let explicitMaximum = self.explicitMaximum { return explicitMaximum }
        switch self.unit {
        case .milliseconds: return 86_400_000
        case .microseconds: return 86_400_000_000
        case .bytes, .count: return 9_007_199_254_740_992
        case .kilobytesPerSecond: return 1_000_000_000
        case .number: return 1e15
        case .text: return 0
        }
    }

    /// Reads this attribute's value from JSON, converting duration strings to the attribute's unit.
    ///
    /// - Throws: ``FaultError/invalidValue(path:expected:found:)`` naming the path, the unit and the allowed range.
    public func read(_ value: JSONValue, path: String) throws(FaultError) -> Double {
        let number: Double
        switch value {
        case .number(let given):
            number = given
        case .string(let text) where self.unit == .milliseconds || self.unit == .microseconds:
            guard let duration = Duration(parsing: text) else {
                throw FaultError.invalidValue(path: path, expected: self.expectation, found: value.typeDescription)
            }
            number = self.unit == .milliseconds ? duration.milliseconds : duration.milliseconds * 1000
        default:
            throw FaultError.invalidValue(path: path, expected: self.expectation, found: value.typeDescription)
        }
        let wholeOnly = self.unit == .bytes || self.unit == .count
        guard number.isFinite, number >= self.minimum, number <= self.maximum,
            !wholeOnly || number.rounded() == number
        else {
            throw FaultError.invalidValue(path: path, expected: self.expectation, found: value.typeDescription)
        }
        return number
    }

    /// What a valid value looks like, for error messages.
    public var expectation: String {
        var bound = "≥ \(JSONValue.format(self.minimum))"
        if let explicitMaximum = self.explicitMaximum {
            bound = "in \(JSONValue.format(self.minimum))...\(JSONValue.format(explicitMaximum))"
        }
        switch self.unit {
        case .milliseconds:
            return "a duration \(bound) ms (a number of milliseconds or a string such as \"250ms\")"
        case .microseconds:
            return "a duration \(bound) µs (a number of microseconds or a string such as \"500us\")"
        case .bytes: return "a whole number of bytes \(bound)"
        case .count: return "a whole number \(bound)"
        case .kilobytesPerSecond: return "a rate in KB/s \(bound)"
        case .number: return "a number \(bound)"
        case .text(let choices):
            return choices.isEmpty ? "a string" : "one of " + choices.map { "\"\($0)\"" }.joined(separator: ", ")
        }
    }
}
