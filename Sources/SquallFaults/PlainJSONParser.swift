/// A parser for the plain JSON Squall's own logs are made of — objects, arrays, strings without escapes, decimal
/// numbers without exponents, `true`, `false`, `null` — that gives up (nil) on anything else, for
/// ``JSONValue/parse(_:strict:)`` to hand to Foundation's parser. Re-reading a log spent three quarters of its time
/// in `JSONSerialization` and in bridging its `NSDictionary`s back; on the subset this accepts, both give the same
/// tree (an integer of up to 15 digits and a decimal are read as Swift reads them, correctly rounded, as Foundation
/// does).
struct PlainJSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    /// The deepest nesting it follows.
    private static let maximumDepth = 64

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The document, or nil when it is not plain (or not JSON): then Foundation's parser decides.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var parser = PlainJSONParser(bytes)
        guard let value = parser.value() else { return nil }
        parser.skipSpace()
        return parser.index == bytes.count ? value : nil
    }

    private mutating func skipSpace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x0A, 0x0D, 0x09: self.index += 1
            default: return
            }
        }
    }

    private mutating func value() -> JSONValue? {
        self.skipSpace()
        guard self.index < self.bytes.count else { return nil }
        switch self.bytes[self.index] {
        case UInt8(ascii: "{"): return self.object()
        case UInt8(ascii: "["): return self.array()
        case UInt8(ascii: "\""): return self.string().map(JSONValue.string)
        case UInt8(ascii: "t"): return self.literal("true", .bool(true))
        case UInt8(ascii: "f"): return self.literal("false", .bool(false))
        case UInt8(ascii: "n"): return self.literal("null", .null)
        default: return self.number()
        }
    }

    private mutating func literal(_ text: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = text.utf8CodeUnitCount
        guard self.index + count <= self.bytes.count else { return nil }
        for offset in 0..<count where self.bytes[self.index + offset] != text.utf8Start[offset] { return nil }
        self.index += count
        return value
    }

    private mutating func object() -> JSONValue? {
        var members: [String: JSONValue] = [:]
        let plain = self.elements(closing: UInt8(ascii: "}")) { parser in
            parser.skipSpace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\""),
                let key = parser.string()
            else { return false }
            parser.skipSpace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: ":") else {
                return false
            }
            parser.index += 1
            // A key given twice: Foundation decides which value stands.
            guard let value = parser.value() else { return false }
            return members.updateValue(value, forKey: key) == nil
        }
        return plain ? .object(members) : nil
    }

    private mutating func array() -> JSONValue? {
        var values: [JSONValue] = []
        let plain = self.elements(closing: UInt8(ascii: "]")) { parser in
            guard let value = parser.value() else { return false }
            values.append(value)
            return true
        }
        return plain ? .array(values) : nil
    }

    /// Reads the elements of the object or array opening at `index` up to its `closing` bracket, each by `element`
    /// (false: not plain), with the commas between; false when any of it is not plain.
    private mutating func elements(closing: UInt8, _ element: (inout PlainJSONParser) -> Bool) -> Bool {
        self.depth += 1
        defer { self.depth -= 1 }
        guard self.depth <= Self.maximumDepth else { return false }
        self.index += 1
        self.skipSpace()
        if self.index < self.bytes.count, self.bytes[self.index] == closing {
            self.index += 1
            return true
        }
        while true {
            guard element(&self) else { return false }
            self.skipSpace()
            guard self.index < self.bytes.count else { return false }
            switch self.bytes[self.index] {
            case UInt8(ascii: ","): self.index += 1
            case closing:
                self.index += 1
                return true
            default: return false
            }
        }
    }

    /// A string without escapes or control characters, valid UTF-8; nil for any other.
    private mutating func string() -> String? {
        self.index += 1
        let start = self.index
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            if byte == UInt8(ascii: "\"") {
                let text = String(
                    validating: UnsafeBufferPointer(rebasing: self.bytes[start..<self.index]),
                    as: UTF8.self
                )
                self.index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            self.index += 1
        }
        return nil
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?`, an integer part of up to 15 digits; nil for any other number.
    private mutating func number() -> JSONValue? {
        let start = self.index
        if self.bytes[self.index] == UInt8(ascii: "-") { self.index += 1 }
        let integerStart = self.index
        while self.index < self.bytes.count, (0x30...0x39).contains(self.bytes[self.index]) { self.index += 1 }
        let integerDigits = self.index - integerStart
        guard integerDigits > 0, integerDigits <= 15,
            integerDigits == 1 || self.bytes[integerStart] != UInt8(ascii: "0")
        else { return nil }
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: ".") {
            self.index += 1
            let fractionStart = self.index
            while self.index < self.bytes.count, (0x30...0x39).contains(self.bytes[self.index]) { self.index += 1 }
            guard self.index > fractionStart else { return nil }
        }
        if self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
            default: break
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
        // -0 is Foundation's integer 0: left to it.
        guard let number = Double(text), number != 0 || self.bytes[start] != UInt8(ascii: "-") else { return nil }
        return .number(number)
    }
}
