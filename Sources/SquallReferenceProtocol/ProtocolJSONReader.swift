/// Reads the progress protocol's messages from JSON quickly when they are plain — no escapes in strings, no key
/// given twice — and answers nil otherwise, so ``ProtocolJSON`` falls back to Foundation's `JSONDecoder`.
///
/// What it accepts it decodes as `JSONDecoder` would (unknown keys ignored, a missing optional is nil); anything it
/// is not sure of — an escape, a fraction in a whole-number field, a repeated key, a value of another type, bytes
/// that are not JSON — it leaves to `JSONDecoder`, which then decodes it or names the error. A reference client
/// decodes every message it receives; `JSONDecoder` took about 4 % of a 5 000-client run's CPU.
package enum ProtocolJSONReader {
    /// A parsed value; numbers keep their text.
    private indirect enum Value {
        case string(String)
        case number(String, isWhole: Bool)
        case bool(Bool)
        case null
        case array([Value])
        case object([String: Value])
    }

    /// Decodes a ``ProgressMessage``, or nil to leave it to `JSONDecoder`.
    package static func progressMessage(_ bytes: some Collection<UInt8>) -> ProgressMessage? {
        Self.parse(bytes).flatMap(Self.progressMessage(_:))
    }

    /// Decodes a ``HandshakeMessage``, or nil to leave it to `JSONDecoder`.
    package static func handshakeMessage(_ bytes: some Collection<UInt8>) -> HandshakeMessage? {
        guard case .object(let members)? = Self.parse(bytes),
            let type = Self.string(members["type"]).flatMap(HandshakeMessage.Kind.init(rawValue:)),
            let lastSeq = Self.whole(members["lastSeq"], as: Int.self)
        else { return nil }
        var jobId: String?
        switch members["jobId"] {
        case nil, .null?: jobId = nil
        case .string(let text)?: jobId = text
        default: return nil
        }
        return HandshakeMessage(type: type, lastSeq: lastSeq, jobId: jobId)
    }

    /// Decodes a ``JobState``, or nil to leave it to `JSONDecoder`.
    package static func jobState(_ bytes: some Collection<UInt8>) -> JobState? {
        guard case .object(let members)? = Self.parse(bytes),
            let jobId = Self.string(members["jobId"]),
            let status = Self.string(members["status"]).flatMap(JobState.Status.init(rawValue:)),
            let processedItems = Self.whole(members["processedItems"], as: Int.self),
            let totalItems = Self.whole(members["totalItems"], as: Int.self),
            let lastSeq = Self.whole(members["lastSeq"], as: Int.self),
            case .array(let list)? = members["messages"]
        else { return nil }
        var messages: [ProgressMessage] = []
        messages.reserveCapacity(list.count)
        for value in list {
            guard let message = Self.progressMessage(value) else { return nil }
            messages.append(message)
        }
        return JobState(
            jobId: jobId,
            status: status,
            processedItems: processedItems,
            totalItems: totalItems,
            lastSeq: lastSeq,
            messages: messages
        )
    }

    private static func progressMessage(_ value: Value) -> ProgressMessage? {
        guard case .object(let members) = value,
            let type = Self.string(members["type"]).flatMap(ProgressMessage.MessageType.init(rawValue:)),
            let jobId = Self.string(members["jobId"]),
            let seq = Self.whole(members["seq"], as: Int.self),
            let timestamp = Self.whole(members["timestamp"], as: Int64.self),
            case .object(let data)? = members["data"],
            let progress = Self.fraction(data["progress"]),
            let processedItems = Self.whole(data["processedItems"], as: Int.self),
            let totalItems = Self.whole(data["totalItems"], as: Int.self),
            let currentStatus = Self.string(data["currentStatus"])
        else { return nil }
        return ProgressMessage(
            type: type,
            jobId: jobId,
            seq: seq,
            timestamp: timestamp,
            data: ProgressData(
                progress: progress,
                processedItems: processedItems,
                totalItems: totalItems,
                currentStatus: currentStatus
            )
        )
    }

    private static func string(_ value: Value?) -> String? {
        guard case .string(let text)? = value else { return nil }
        return text
    }

    private static func whole<Integer: FixedWidthInteger>(_ value: Value?, as: Integer.Type) -> Integer? {
        guard case .number(let text, isWhole: true)? = value else { return nil }
        return Integer(text)
    }

    private static func fraction(_ value: Value?) -> Double? {
        guard case .number(let text, _)? = value, let number = Double(text), number.isFinite else { return nil }
        return number
    }

    // MARK: - Parsing

    private static func parse(_ bytes: some Collection<UInt8>) -> Value? {
        var parser = Parser(bytes: Array(bytes))
        parser.skipSpace()
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        return parser.index == parser.bytes.count ? value : nil
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        private var current: UInt8? {
            self.index < self.bytes.count ? self.bytes[self.index] : nil
        }

        mutating func skipSpace() {
            while let byte = self.current,
                byte == UInt8(ascii: " ") || byte == 0x0A || byte == 0x0D || byte == 0x09
            {
                self.index += 1
            }
        }

        mutating func value(depth: Int) -> Value? {
            guard depth < 8, let byte = self.current else { return nil }
            switch byte {
            case UInt8(ascii: "{"): return self.object(depth: depth)
            case UInt8(ascii: "["): return self.array(depth: depth)
            case UInt8(ascii: "\""): return self.string().map(Value.string)
            case UInt8(ascii: "t"): return self.literal("true", .bool(true))
            case UInt8(ascii: "f"): return self.literal("false", .bool(false))
            case UInt8(ascii: "n"): return self.literal("null", .null)
            default: return self.number()
            }
        }

        private mutating func object(depth: Int) -> Value? {
            self.index += 1
            var members: [String: Value] = [:]
            self.skipSpace()
            if self.current == UInt8(ascii: "}") {
                self.index += 1
                return .object(members)
            }
            while true {
                self.skipSpace()
                guard self.current == UInt8(ascii: "\""), let key = self.string() else { return nil }
                self.skipSpace()
                guard self.current == UInt8(ascii: ":") else { return nil }
                self.index += 1
                self.skipSpace()
                guard let value = self.value(depth: depth + 1), members.updateValue(value, forKey: key) == nil else {
                    return nil
                }
                self.skipSpace()
                switch self.current {
                case UInt8(ascii: ",")?: self.index += 1
                case UInt8(ascii: "}")?:
                    self.index += 1
                    return .object(members)
                default: return nil
                }
            }
        }

        private mutating func array(depth: Int) -> Value? {
            self.index += 1
            var elements: [Value] = []
            self.skipSpace()
            if self.current == UInt8(ascii: "]") {
                self.index += 1
                return .array(elements)
            }
            while true {
                self.skipSpace()
                guard let value = self.value(depth: depth + 1) else { return nil }
                elements.append(value)
                self.skipSpace()
                switch self.current {
                case UInt8(ascii: ",")?: self.index += 1
                case UInt8(ascii: "]")?:
                    self.index += 1
                    return .array(elements)
                default: return nil
                }
            }
        }

        /// A string without escapes or control characters (those are left to `JSONDecoder`).
        private mutating func string() -> String? {
            let start = self.index + 1
            var end = start
            while end < self.bytes.count {
                let byte = self.bytes[end]
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                end += 1
            }
            guard end < self.bytes.count else { return nil }
            self.index = end + 1
            // Invalid UTF-8 is left to JSONDecoder too, which refuses it.
            return String(validating: self.bytes[start..<end], as: UTF8.self)
        }

        /// A number in JSON's grammar; `isWhole` when it has no fraction or exponent.
        private mutating func number() -> Value? {
            let start = self.index
            if self.current == UInt8(ascii: "-") { self.index += 1 }
            guard let first = self.current, Self.isDigit(first) else { return nil }
            self.index += 1
            if first != UInt8(ascii: "0") { self.digits() }
            var isWhole = true
            if self.current == UInt8(ascii: ".") {
                isWhole = false
                self.index += 1
                guard self.digits() > 0 else { return nil }
            }
            if self.current == UInt8(ascii: "e") || self.current == UInt8(ascii: "E") {
                isWhole = false
                self.index += 1
                if self.current == UInt8(ascii: "+") || self.current == UInt8(ascii: "-") { self.index += 1 }
                guard self.digits() > 0 else { return nil }
            }
            return .number(String(decoding: self.bytes[start..<self.index], as: UTF8.self), isWhole: isWhole)
        }

        @discardableResult
        private mutating func digits() -> Int {
            let start = self.index
            while let byte = self.current, Self.isDigit(byte) { self.index += 1 }
            return self.index - start
        }

        private mutating func literal(_ text: StaticString, _ value: Value) -> Value? {
            let count = text.utf8CodeUnitCount
            guard self.index + count <= self.bytes.count else { return nil }
            let matches = text.withUTF8Buffer { self.bytes[self.index..<(self.index + count)].elementsEqual($0) }
            guard matches else { return nil }
            self.index += count
            return value
        }

        private static func isDigit(_ byte: UInt8) -> Bool {
            byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
        }
    }
}
