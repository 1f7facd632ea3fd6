import Foundation
import SquallReferenceProtocol

/// A parsed JSON document kept as a tree, so that validation can walk it and name the exact path of a bad value.
///
/// Squall reads every configuration (proxy files, control-API bodies, scenarios) into a `JSONValue` first and then
/// validates it by hand: `Codable` alone cannot say "`[0].toxics[1].attributes.rate`: expected a number ≥ 0, found
/// -5", and cannot reject unknown keys.
public enum JSONValue: Sendable, Hashable {
    /// JSON `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// Any JSON number.
    case number(Double)
    /// A JSON string.
    case string(String)
    /// A JSON array.
    case array([JSONValue])
    /// A JSON object; key order is not kept.
    case object([String: JSONValue])

    /// Parses UTF-8 JSON text.
    ///
    /// - Parameters:
    ///   - bytes: the document.
    ///   - strict: also refuse trailing commas and keys given twice (see ``StrictJSONCheck``), as every document a
    ///     user writes is read; Squall's own logs, written by Squall, skip the extra pass.
    /// - Returns: the parsed tree.
    /// - Throws: ``FaultError/invalidJSON(_:)`` with the parser's explanation.
    public static func parse<Bytes: Collection<UInt8>>(
        _ bytes: Bytes,
        strict: Bool = true
    ) throws(FaultError) -> JSONValue {
        if !strict {
            // Squall's own plain lines, without Foundation; anything else falls through to it.
            let plain =
                bytes.withContiguousStorageIfAvailable(PlainJSONParser.parse)
                ?? Array(bytes).withUnsafeBufferPointer(PlainJSONParser.parse)
            if let plain { return plain }
        }
        let data = Data(bytes)
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw FaultError.invalidJSON("the document is empty")
        }
        // JSONSerialization, not JSONDecoder: the same grammar, about five times faster on event logs (measured on
        // 20 000 lines of a run's log: 0.07 s against 0.35 s), which re-checks and reports read in full.
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw FaultError.invalidJSON(reason)
        }
        if strict {
            do {
                try StrictJSONCheck.check(data)
            } catch {
                throw FaultError.invalidJSON(error.description)
            }
        }
        return Self.converting(object)
    }

    private static func converting(_ object: Any) -> JSONValue {
        switch object {
        case let text as String:
            return .string(text)
        case let number as NSNumber:
            // Booleans come back as NSNumbers of type `char`; JSON numbers never do.
            if String(cString: number.objCType) == "c" { return .bool(number.boolValue) }
            return .number(number.doubleValue)
        case let values as [Any]:
            return .array(values.map(Self.converting))
        case let members as [String: Any]:
            return .object(members.mapValues(Self.converting))
        default:
            return .null
        }
    }

    /// A short name of this value's JSON type with a preview of the value, for error messages.
    public var typeDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "boolean \(value)"
        case .number(let value): return "number \(JSONValue.format(value))"
        case .string(let value):
            let preview = value.count > 40 ? String(value.prefix(40)) + "…" : value
            return "string \"\(preview)\""
        case .array(let values): return "an array of \(values.count)"
        case .object: return "an object"
        }
    }

    /// Renders the value as compact JSON text with sorted keys, so output is deterministic.
    public var jsonText: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let value): return JSONValue.format(value)
        case .string(let value): return JSONValue.quote(value)
        case .array(let values): return "[" + values.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let members):
            let body = members.keys.sorted().map { JSONValue.quote($0) + ":" + members[$0]!.jsonText }
            return "{" + body.joined(separator: ",") + "}"
        }
    }

    /// Renders the value as indented JSON (two spaces) with sorted keys, for files people read.
    public var prettyText: String {
        self.prettyText(indent: "")
    }

    private func prettyText(indent: String) -> String {
        let inner = indent + "  "
        switch self {
        case .array(let values) where !values.isEmpty:
            return "[\n" + values.map { inner + $0.prettyText(indent: inner) }.joined(separator: ",\n") + "\n" + indent
                + "]"
        case .object(let members) where !members.isEmpty:
            let body = members.keys.sorted().map {
                inner + JSONValue.quote($0) + ": " + members[$0]!.prettyText(indent: inner)
            }
            return "{\n" + body.joined(separator: ",\n") + "\n" + indent + "}"
        default:
            return self.jsonText
        }
    }

    /// Formats a number as JSON: whole numbers without a fraction, others with the shortest round-trip form.
    public static func format(_ value: Double) -> String {
        if value.isFinite, value.rounded() == value, abs(value) < 1e15 {
            return String(Int64(value))
        }
        return value.isFinite ? "\(value)" : "null"
    }

    /// Quotes and escapes a string as JSON.
    public static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                result +=
                    "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

extension JSONValue: Decodable {
    /// Decodes any JSON value.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}
