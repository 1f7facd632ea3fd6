import Foundation

/// Small helpers for writing NDJSON lines by hand, so event lines keep a fixed key order (diffable logs) without a
/// dictionary round trip.
package enum JSONText {
    /// A JSON string literal for `text`, escaped as RFC 8259 requires (slashes left alone).
    ///
    /// - Parameter text: any text.
    /// - Returns: the quoted literal, e.g. `"a\"b"`.
    package static func quote(_ text: String) -> String {
        // Most text (ids, reasons) needs no escape: copy it whole.
        if !text.utf8.contains(where: Self.needsEscape) {
            return "\"" + text + "\""
        }
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                result += String(format: "\\u%04x", scalar.value)
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// Whether `byte` of a string's UTF-8 must be escaped in JSON: a quote, a backslash or a control character.
    package static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Appends `text` as a JSON string literal, its UTF-8 copied whole, when none of it needs an escape (most ids,
    /// names and reasons); false, appending nothing, when some does and the caller escapes it its own way.
    package static func appendPlainLiteral(_ text: String, to bytes: inout [UInt8]) -> Bool {
        var text = text
        // Native strings are contiguous: scanned and copied as one buffer.
        return text.withUTF8 { utf8 in
            guard !utf8.contains(where: Self.needsEscape) else { return false }
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: utf8)
            bytes.append(UInt8(ascii: "\""))
            return true
        }
    }

    /// A number with at most three decimals and no trailing zeros, e.g. `12.5`, `1763900000123.456`, `3`.
    ///
    /// - Parameter value: a finite number (non-finite values are written as 0, which JSON can hold).
    /// - Returns: its JSON text.
    package static func number(_ value: Double) -> String {
        var bytes: [UInt8] = []
        Self.appendNumber(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``number(_:)``'s text for `value` to `bytes`, without a string on the way (a log's writer renders
    /// millions of event times).
    package static func appendNumber(_ value: Double, to bytes: inout [UInt8]) {
        guard value.isFinite else { return bytes.append(UInt8(ascii: "0")) }
        let thousandths = (value * 1_000).rounded()
        guard abs(thousandths) < 9e18 else { return bytes.append(contentsOf: "\(value)".utf8) }
        // Integer arithmetic, not `String(format:)`: event lines are written by the hundred thousand per run.
        let scaled = Int64(thousandths)
        let magnitude = scaled.magnitude
        if scaled < 0 { bytes.append(UInt8(ascii: "-")) }
        Self.appendDigits(magnitude / 1_000, to: &bytes)
        var fraction = magnitude % 1_000
        guard fraction != 0 else { return }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        bytes.append(UInt8(ascii: "."))
        // Leading zeros: 0.05 is 50 thousandths, written `.05`.
        var width = 1
        var bound: UInt64 = 10
        while fraction >= bound {
            width += 1
            bound *= 10
        }
        for _ in width..<digits { bytes.append(UInt8(ascii: "0")) }
        Self.appendDigits(fraction, to: &bytes)
    }

    /// Appends a whole number's decimal digits (as `String(value)` writes them) to `bytes`.
    package static func appendInteger(_ value: Int, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        Self.appendDigits(value.magnitude, to: &bytes)
    }

    private static func appendDigits(_ value: some UnsignedInteger & FixedWidthInteger, to bytes: inout [UInt8]) {
        var divisor: UInt64 = 1
        let value = UInt64(value)
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
            divisor /= 10
        }
    }
}
