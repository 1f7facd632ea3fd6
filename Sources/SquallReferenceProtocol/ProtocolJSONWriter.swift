/// Writes the progress protocol's messages as ``ProtocolJSON`` does — sorted keys, slashes unescaped — byte for byte
/// what Foundation's `JSONEncoder` writes for them, without its cost.
///
/// `JSONEncoder` builds a tree of boxed values through `Codable` for every message; in a 5 000-client run it took
/// about 4 % of the harness's CPU. The protocol's few messages are written by hand here instead, and a test holds
/// the bytes equal to `JSONEncoder`'s for every kind of value.
package struct ProtocolJSONWriter {
    /// The bytes written so far.
    package private(set) var bytes: [UInt8] = []
    private var needsComma = false

    /// Creates an empty writer.
    package init() {
        self.bytes.reserveCapacity(256)
    }

    /// Forgets what was written, keeping the buffer's room for the next value.
    package mutating func removeAll() {
        self.bytes.removeAll(keepingCapacity: true)
        self.needsComma = false
    }

    /// Writes an object whose members `body` writes (keys in sorted order).
    package mutating func object(_ body: (inout ProtocolJSONWriter) -> Void) {
        self.separate()
        self.bytes.append(UInt8(ascii: "{"))
        self.needsComma = false
        body(&self)
        self.bytes.append(UInt8(ascii: "}"))
        self.needsComma = true
    }

    /// Writes an array of `elements`, each by `element`.
    package mutating func array<Element>(_ elements: [Element], _ element: (inout ProtocolJSONWriter, Element) -> Void)
    {
        self.separate()
        self.bytes.append(UInt8(ascii: "["))
        self.needsComma = false
        for item in elements { element(&self, item) }
        self.bytes.append(UInt8(ascii: "]"))
        self.needsComma = true
    }

    /// Writes a member's key; its value follows.
    package mutating func key(_ key: StaticString) {
        self.separate()
        self.bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
        self.bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        self.needsComma = false
    }

    /// Writes a string, escaped as `JSONEncoder` escapes it.
    package mutating func string(_ text: String) {
        self.separate()
        self.needsComma = true
        // Most text (ids, statuses) needs no escape: copied as one buffer, not byte by byte.
        if JSONText.appendPlainLiteral(text, to: &self.bytes) { return }
        self.bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                self.bytes.append(contentsOf: Array("\\u00".utf8))
                self.bytes.append(contentsOf: [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    /// Writes a whole number.
    package mutating func number(_ value: some SignedInteger & FixedWidthInteger) {
        self.separate()
        JSONText.appendInteger(Int(value), to: &self.bytes)
        self.needsComma = true
    }

    /// Writes a number with a fraction as `JSONEncoder` does: Swift's shortest form, without a trailing `.0`.
    package mutating func number(_ value: Double) {
        self.separate()
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        self.bytes.append(contentsOf: text.utf8)
        self.needsComma = true
    }

    /// Writes `null`.
    package mutating func null() {
        self.separate()
        self.bytes.append(contentsOf: Array("null".utf8))
        self.needsComma = true
    }

    private mutating func separate() {
        if self.needsComma { self.bytes.append(UInt8(ascii: ",")) }
    }
}
