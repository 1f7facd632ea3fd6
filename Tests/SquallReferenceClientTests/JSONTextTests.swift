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
