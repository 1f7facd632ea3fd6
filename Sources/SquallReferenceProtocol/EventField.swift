/// One field of an event line of the reference system (client and server events): its value typed, so the same
/// list gives the NDJSON text and, for Squall's simulator, the parsed record without a round trip through text.
package enum EventField: Sendable, Hashable {
    /// A string.
    case string(String)
    /// A whole number.
    case integer(Int)
    /// A number, written with at most three decimals (``JSONText/number(_:)``).
    case number(Double)
    /// A boolean.
    case bool(Bool)
    /// `null`.
    case null

    /// The field's JSON text.
    package var jsonText: String {
        switch self {
        case .string(let text): JSONText.quote(text)
        case .integer(let value): String(value)
        case .number(let value): JSONText.number(value)
        case .bool(let value): value ? "true" : "false"
        case .null: "null"
        }
    }

    /// The value a reader of the JSON text gets back: a number rounded to the three decimals it was written with.
    package var writtenNumber: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value.isFinite ? (value * 1_000).rounded() / 1_000 : 0
        case .string, .bool, .null: nil
        }
    }

    /// `{"key":value,…}` in the order given.
    package static func line(_ fields: [(String, EventField)]) -> String {
        // One string grown in place: lines are written by the million in a simulation.
        var line = "{"
        line.reserveCapacity(160)
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { line += "," }
            line += JSONText.quote(key)
            line += ":"
            line += value.jsonText
        }
        return line + "}"
    }
}
