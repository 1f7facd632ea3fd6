/// What a strict JSON reader refuses and Foundation's parser lets through: trailing commas, and a key given twice
/// in one object (keys compared case-insensitively, since Squall matches keys that way — `{"type": …, "Type": …}`
/// would be ambiguous).
///
/// Runs over a document Foundation has already parsed, so the grammar is known to be sound and only these two
/// faults are looked for; the error names the JSON path where each was found.
package enum StrictJSONCheck {
    /// Checks `bytes`, a document that parsed.
    ///
    /// - Throws: ``FaultError/invalidJSON(_:)`` naming the path of the first trailing comma or repeated key.
    package static func check<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(FaultError) {
        var scanner = Scanner(bytes: Array(bytes))
        scanner.skipSpace()
        try scanner.value(path: "")
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        var current: UInt8? {
            self.index < self.bytes.count ? self.bytes[self.index] : nil
        }

        mutating func skipSpace() {
            while let byte = self.current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                self.index += 1
            }
        }

        mutating func value(path: String) throws(FaultError) {
            switch self.current {
            case UInt8(ascii: "{"): try self.object(path: path)
            case UInt8(ascii: "["): try self.array(path: path)
            case UInt8(ascii: "\""): _ = self.string()
            default:
                while let byte = self.current, !",]} \n\r\t".utf8.contains(byte) { self.index += 1 }
            }
        }

        mutating func object(path: String) throws(FaultError) {
            self.index += 1
            self.skipSpace()
            if self.current == UInt8(ascii: "}") {
                self.index += 1
                return
            }
            var keys = Set<String>()
            while true {
                let key = self.string()
                let keyPath = path.isEmpty ? key : "\(path).\(key)"
                guard keys.insert(key.lowercased()).inserted else {
                    throw FaultError.invalidJSON("the key \"\(key)\" appears twice in \(Self.describe(path))")
                }
                self.skipSpace()
                self.index += 1  // the colon
                self.skipSpace()
                try self.value(path: keyPath)
                self.skipSpace()
                guard self.current == UInt8(ascii: ",") else {
                    self.index += 1  // the closing brace
                    return
                }
                self.index += 1
                self.skipSpace()
                if self.current == UInt8(ascii: "}") {
                    throw FaultError.invalidJSON("a trailing comma after the last member of \(Self.describe(path))")
                }
            }
        }

        mutating func array(path: String) throws(FaultError) {
            self.index += 1
            self.skipSpace()
            if self.current == UInt8(ascii: "]") {
                self.index += 1
                return
            }
            var position = 0
            while true {
                try self.value(path: "\(path)[\(position)]")
                position += 1
                self.skipSpace()
                guard self.current == UInt8(ascii: ",") else {
                    self.index += 1  // the closing bracket
                    return
                }
                self.index += 1
                self.skipSpace()
                if self.current == UInt8(ascii: "]") {
                    throw FaultError.invalidJSON("a trailing comma after the last element of \(Self.describe(path))")
                }
            }
        }

        /// Reads a string token and returns its text (escapes decoded by the JSON parser).
        mutating func string() -> String {
            let start = self.index
            self.index += 1
            var escaped = false
            while let byte = self.current, byte != UInt8(ascii: "\"") {
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    self.index += 1
                }
                self.index += 1
            }
            self.index += 1
            let token = self.bytes[start..<min(self.index, self.bytes.count)]
            if escaped, case .string(let text)? = try? JSONValue.parse(token, strict: false) {
                return text
            }
            return String(decoding: token.dropFirst().dropLast(), as: UTF8.self)
        }

        static func describe(_ path: String) -> String {
            path.isEmpty ? "the document" : path
        }
    }
}
