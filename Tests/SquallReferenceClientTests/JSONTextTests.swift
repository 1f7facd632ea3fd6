import Foundation
import SquallReferenceProtocol
import Testing

/// Event-line numbers: at most three decimals, no trailing zeros, never `-0`.
@Suite struct JSONTextTests {
    @Test(arguments: [
        (12.5, "12.5"), (3, "3"), (0, "0"), (-0.0001, "0"), (0.05, "0.05"), (-2.5, "-2.5"), (0.0004, "0"),
        (1_763_900_000_123.456, "1763900000123.456"), (99.9999, "100"), (-1.25, "-1.25"), (Double.infinity, "0"),
    ])
    func numbersAreWrittenShortest(value: Double, text: String) {
        #expect(JSONText.number(value) == text)
    }
}

/// The byte writers behind event lines agree with the string forms they replace, digit for digit.
@Suite struct JSONTextByteTests {
    /// `number(_:)` as it was written with strings: the oracle for the byte writer.
    private static func stringNumber(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let scaled = Int64((value * 1_000).rounded())
        var text = scaled < 0 ? "-" : ""
        text += String(scaled.magnitude / 1_000)
        var fraction = scaled.magnitude % 1_000
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

    @Test func numbersMatchTheStringForm() {
        var random = SystemRandomNumberGenerator()
        var values: [Double] = [0.001, 0.01, 0.1, 0.009, 0.099, 1.001, 1.01, 10.1, -0.001, -0.05, 999.999]
        for _ in 0..<20_000 {
            let magnitude =
                Double.random(in: 0...1, using: &random) * pow(10, Double.random(in: -4...13, using: &random))
            values.append(Bool.random(using: &random) ? magnitude : -magnitude)
        }
        for value in values {
            #expect(JSONText.number(value) == Self.stringNumber(value), "\(value)")
        }
    }

    @Test(arguments: [0, 7, 10, 99, 100, 12_345, -1, -10, Int.max, Int.min, 1_000_000_000_000_000_000])
    func integersMatchTheStringForm(value: Int) {
        var bytes: [UInt8] = []
        JSONText.appendInteger(value, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == String(value))
    }
}
