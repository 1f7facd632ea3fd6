import Foundation
import SquallScenarios
import Testing

/// Who used the machine, measured on a real process that burns a core.
@Suite struct CPUSamplerTests {
    @Test(.enabled(if: CPUSamplerTests.hasProc, "reads /proc (Linux)"))
    func aChildThatBurnsACoreIsCountedAsTheApps() async throws {
        var sampler = CPUSampler()
        let burner = try await ChildProcess.start(
            arguments: ["sh", "-c", "while :; do :; done"],
            environment: [:],
            part: "a CPU burner",
            grace: .milliseconds(100)
        )
        try await Task.sleep(for: .seconds(1))
        let sample = sampler.sample()
        _ = await burner.stop()
        let used = try #require(sample.groups[burner.pid], "\(sample.groups)")
        #expect(used > 0.6 && used < 1.5, "one busy loop is about one core: \(used)")
        let machine = try #require(sample.machine)
        #expect(machine >= used * 0.8, "the machine's busy cores include it: \(machine) vs \(used)")
        // Once it has stopped, it uses nothing.
        let after = sampler.sample()
        #expect(after.groups[burner.pid] ?? 0 < 0.05, "\(after.groups)")
    }

    static let hasProc = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) != nil
}
