import SquallTestSupport
import Testing

/// `squall bench sse` on a small stream: every path delivers every event and the table says so.
@Suite struct BenchSSECommandTests {
    @Test func measuresEveryPathAndReportsEachAsARatioOfDirect() async throws {
        let result = try await SquallProcess.run(["bench", "sse", "--events", "3000", "--clients", "2"])
        #expect(result.status == 0, "\(result.errors)")
        let rows = result.output.split(separator: "\n").filter { $0.hasPrefix("| direct") || $0.hasPrefix("| proxy") }
        #expect(rows.count == 3, "\(result.output)")
        // Every path delivered 2 × 3 000 events; the reads are counted, so a lost stream would show fewer bytes.
        #expect(rows.allSatisfy { $0.contains("| 6000 |") }, "\(rows)")
        #expect(rows.first?.hasSuffix("| 1.00 |") == true, "direct is the baseline: \(rows)")
    }

    @Test func refusesNonsense() async throws {
        let result = try await SquallProcess.run(["bench", "sse", "--events", "0"])
        #expect(result.status == 64)
    }
}
