import Foundation

/// What a strict JSON reader refuses and Foundation's parser lets through: trailing commas, a key given twice in one
/// object (keys compared case-insensitively, since Squall matches keys that way — `{"type": …, "Type": …}` would be
/// ambiguous), and nesting deeper than ``maximumDepth``.
///
/// Runs over a document Foundation has already parsed, so the grammar is known to be sound and only these two
/// faults are looked for; the problem names the JSON path where it was found. It lives with the wire messages
/// because both sides read JSON strictly: the chaos side (scenarios, proxies files, the control API) and the
/// reference server (job bodies).
package enum StrictJSONCheck {
    /// What a strict reader refuses, and where.
    package struct Violation: Error, Sendable, Hashable, CustomStringConvertible {
        /// A sentence naming the problem and its JSON path.
        package var description: String
    }

    /// The deepest nesting of arrays and objects accepted; Squall's own documents need five levels.
    package static let maximumDepth = 32

    /// Checks `bytes`, a document that parsed.
    ///
    /// - Throws: ``Violation`` naming the path of the first trailing comma or repeated key.
    package static func check<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(Violation) {
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

        mutating func value(path: String, depth: Int = 0) throws(Violation) {
            if depth > StrictJSONCheck.maximumDepth {
                throw Violation(
                    description: "\(Self.describe(path)) is nested deeper than \(StrictJSONCheck.maximumDepth) levels"
                )
            }
            switch self.current {
            case UInt8(ascii: "{"): try self.object(path: path, depth: depth)
            case UInt8(ascii: "["): try self.array(path: path, depth: depth)
            case UInt8(ascii: "\""): _ = self.string()
            default:
                while let byte = self.current, !",]} \n\r\t".utf8.contains(byte) { self.index += 1 }
            }
        }

        mutating func object(path: String, depth: Int) throws(Violation) {
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
                    throw Violation(description: "the key \"\(key)\" appears twice in \(Self.describe(path))")
                }
                self.skipSpace()
                self.index += 1  // the colon
                self.skipSpace()
                try self.value(path: keyPath, depth: depth + 1)
                self.skipSpace()
                guard self.current == UInt8(ascii: ",") else {
                    self.index += 1  // the closing brace
                    return
                }
                self.index += 1
                self.skipSpace()
                if self.current == UInt8(ascii: "}") {
                    throw Violation(description: "a trailing comma after the last member of \(Self.describe(path))")
                }
            }
        }

        mutating func array(path: String, depth: Int) throws(Violation) {
            self.index += 1
            self.skipSpace()
            if self.current == UInt8(ascii: "]") {
                self.index += 1
                return
            }
            var position = 0
            while true {
                try self.value(path: "\(path)[\(position)]", depth: depth + 1)
                position += 1
                self.skipSpace()
                guard self.current == UInt8(ascii: ",") else {
                    self.index += 1  // the closing bracket
                    return
                }
                self.index += 1
                self.skipSpace()
                if self.current == UInt8(ascii: "]") {
                    throw Violation(description: "a trailing comma after the last element of \(Self.describe(path))")
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
            if escaped,
                let text = try? JSONSerialization.jsonObject(with: Data(token), options: [.fragmentsAllowed]) as? String
            {
                return text
            }
            return String(decoding: token.dropFirst().dropLast(), as: UTF8.self)
        }

        static func describe(_ path: String) -> String {
            path.isEmpty ? "the document" : path
        }
    }
}
