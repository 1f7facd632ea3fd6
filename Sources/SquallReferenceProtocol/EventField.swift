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
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160)
        Self.write(fields, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `{"key":value,…}` (in the order given) to `bytes`: how a log's writer renders millions of lines into
    /// one buffer without a string for each.
    package static func write(_ fields: [(String, EventField)], into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        for index in fields.indices {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.quote(fields[index].0, into: &bytes)
            bytes.append(UInt8(ascii: ":"))
            switch fields[index].1 {
            case .string(let text): Self.quote(text, into: &bytes)
            case .integer(let number): JSONText.appendInteger(number, to: &bytes)
            case .number(let number): JSONText.appendNumber(number, to: &bytes)
            case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
            case .null: bytes.append(contentsOf: "null".utf8)
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Appends `text` as a JSON string (``JSONText/quote(_:)``), copied whole when it needs no escape.
    private static func quote(_ text: String, into bytes: inout [UInt8]) {
        if !JSONText.appendPlainLiteral(text, to: &bytes) {
            bytes.append(contentsOf: JSONText.quote(text).utf8)
        }
    }
}
