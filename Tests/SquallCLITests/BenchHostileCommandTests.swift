import Foundation
import SquallBenchmarks
import SquallTestSupport
import Testing

/// `squall bench hostile`: the seeded slice of the hostile-input fuzzer that every test run carries, and proof
/// that its checks fail when the proxy dies.
@Suite struct BenchHostileCommandTests {
    @Test func theProxySurvivesASeededSliceOfHostileStreamsUnderEveryFault() async throws {
        // 200 streams a fault is where the build before issue 28's fix died in every seed tried (it took 200 to 300
        // under block_upgrade reject); the slice takes about a minute in a debug build.
        let result = try await SquallProcess.run(
            // A connection leaked per stream grew this slice's memory by 20 MB (a reference cycle between a
            // connection and its answer collector); without it, it grows by about 6.
            [
                "bench", "hostile", "--streams", "200", "--seed", "28", "--concurrency", "40", "--rss-growth-limit",
                "14",
            ],
            timeout: 600
        )
        #expect(result.status == 0, "\(result.output.suffix(3_000))\n\(result.errors.suffix(2_000))")
        #expect(
            result.output.contains("over \(HostileBenchmark.catalogue.count) faults, crashes 0"),
            "\(result.output)"
        )
        for phase in HostileBenchmark.catalogue {
            #expect(result.output.contains("| \(phase.name) | 200 | yes | yes | yes | yes |"), "\(phase.name)")
        }
    }

    @Test func aProxyThatDiesIsReportedWithARepro() async throws {
        // A stand-in that runs the real proxy and kills it two seconds in: the fuzzer must say it died, print the
        // repro and exit 1 — its checks fail on a dead proxy.
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("squall-dies-\(UUID()).sh").path
        try """
        #!/bin/sh
        ( sleep 2; kill -9 $$ ) &
        exec "\(SquallProcess.executablePath)" "$@"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let result = try await SquallProcess.run(
            ["bench", "hostile", "--streams", "4000", "--seed", "5", "--proxy-executable", script],
            timeout: 300
        )
        #expect(result.status == 1, "\(result.output)\n\(result.errors)")
        #expect(result.output.contains("crashes 1"), "\(result.output)")
        #expect(result.output.contains("repro: squall bench hostile --seed 5 --streams 4000"), "\(result.output)")
        #expect(result.output.contains("| **no** | **no** | **no** | **no** |"), "\(result.output)")
    }

    @Test func anUnknownPhaseIsRefusedNamingTheKnownOnes() async throws {
        let result = try await SquallProcess.run(["bench", "hostile", "--faults", "latency,lag"])
        #expect(result.status == 64)
        #expect(result.errors.contains("unknown phase lag; known: none, latency"), "\(result.errors)")
    }
}
