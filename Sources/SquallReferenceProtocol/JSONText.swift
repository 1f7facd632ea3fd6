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
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
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

    /// A number with at most three decimals and no trailing zeros, e.g. `12.5`, `1763900000123.456`, `3`.
    ///
    /// - Parameter value: a finite number (non-finite values are written as 0, which JSON can hold).
    /// - Returns: its JSON text.
    package static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let thousandths = (value * 1_000).rounded()
        guard abs(thousandths) < 9e18 else { return "\(value)" }
        // Integer arithmetic, not `String(format:)`: event lines are written by the hundred thousand per run.
        let scaled = Int64(thousandths)
        let magnitude = scaled.magnitude
        var text = scaled < 0 ? "-" : ""
        text += String(magnitude / 1_000)
        var fraction = magnitude % 1_000
        if fraction != 0 {
            var digits = 3
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            let decimals = String(fraction)
            text += "." + String(repeating: "0", count: digits - decimals.count) + decimals
        }
        return text
    }
}
