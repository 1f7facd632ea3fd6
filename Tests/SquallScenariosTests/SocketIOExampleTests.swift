import Foundation
import SquallFaults
import SquallScenarios
import SquallTestSupport
import Testing

private let venvPython = ExampleScenario.packageRoot + "/examples/socketio/.venv/bin/python"

/// Whether `examples/socketio/setup.sh` has installed python-socketio and aiohttp into the example's venv.
private let socketIOInstalled = PythonVenv.canImport("socketio, aiohttp", python: venvPython)

/// A real Socket.IO app (python-socketio on aiohttp) and its python-socketio clients, unchanged but for a wrapper
/// that reports Squall's event contract, gated end to end through the proxy: what plain Socket.IO does under a
/// corporate proxy, a silent upgrade and a network handoff.
@Suite(.serialized)
struct SocketIOExampleTests {
    /// Runs `examples/socketio/NAME.json`.
    private func run(_ name: String) async throws -> RunRecord {
        try await ExampleScenario.run("examples/socketio/" + name + ".json")
    }

    private func verdicts(_ record: RunRecord) -> [String: Bool] { ExampleScenario.verdicts(record) }

    @Test(.enabled(if: socketIOInstalled, "needs the Socket.IO example's venv: run bash examples/socketio/setup.sh"))
    func withoutFaultsEngineIOUpgradesAndNothingIsLost() async throws {
        let record = try await self.run("normal")
        #expect(record.passed, "\(record.gates.map(\.summary))")
        let connected = record.records.filter { $0.event == "connected" }.compactMap { $0.string("transport") }
        #expect(connected.count == 3 && connected.allSatisfy { $0 == "websocket" }, "\(connected)")
        #expect(record.metrics.clients.allSatisfy { $0.deliveredByPolling == 0 && $0.delivered == 20 })
    }

    @Test(.enabled(if: socketIOInstalled, "needs the Socket.IO example's venv: run bash examples/socketio/setup.sh"))
    func behindAProxyThatBlocksTheUpgradeItStaysOnPollingAndLosesNothing() async throws {
        for name in ["firewall-reject", "firewall-strip"] {
            let record = try await self.run(name)
            #expect(record.passed, "\(name): \(record.gates.map(\.summary))")
            #expect(record.metrics.value(.fallbackRate, .rate) == 1, "\(name)")
            #expect(record.metrics.clients.allSatisfy { $0.deliveredByPolling == 20 }, "\(name)")
        }
    }

    @Test(.enabled(if: socketIOInstalled, "needs the Socket.IO example's venv: run bash examples/socketio/setup.sh"))
    func aHandoffLosesWhatWasEmittedMeanwhileUnlessTheClientSyncsItsState() async throws {
        let plain = try await self.run("handoff")
        #expect(self.verdicts(plain)["lost_messages count==0"] == false, "\(plain.gates.map(\.summary))")
        #expect(self.verdicts(plain)["completion_rate rate==1"] == true)
        #expect(self.verdicts(plain)["client_output_malformed count==0"] == true, "the wrapper follows the contract")
        let synced = try await self.run("handoff-state-sync")
        #expect(synced.passed, "\(synced.gates.map(\.summary))")
        #expect(synced.records.contains { $0.event == "state_sync" && ($0.integer("messages") ?? 0) > 0 })
    }

    @Test(.enabled(if: socketIOInstalled, "needs the Socket.IO example's venv: run bash examples/socketio/setup.sh"))
    func aSilentUpgradeHangsThePythonClientInItsProbe() async throws {
        let record = try await self.run("blackhole-after-101")
        #expect(!record.passed)
        #expect(record.metrics.value(.completionRate, .rate) == 0)
        let failures = record.records.filter { $0.event == "connect_failed" }.compactMap { $0.string("reason") }
        #expect(!failures.isEmpty && failures.allSatisfy { $0 == "connect timed out" }, "\(failures)")
        // It does not give up or crash: it keeps trying, and each try hangs the same way.
        #expect(
            record.metrics.clients.allSatisfy { $0.connectAttempts >= 2 },
            "\(record.metrics.clients.map(\.connectAttempts))"
        )
        #expect(
            record.metrics.clients.allSatisfy { ($0.process ?? "").contains("still running when the run ended") },
            "\(record.metrics.clients.map { $0.process ?? "" })"
        )
        // The wrapper kept to the contract, but no client ever received a message: the gate has no evidence, so it
        // does not pass.
        #expect(record.metrics.value(.malformedOutput, .count) == 0)
        let malformed = record.gates.first { $0.gate.metric == .malformedOutput }
        #expect(malformed?.passed == false)
        #expect(malformed?.missingEvidence?.contains("never received a message") == true, "\(malformed?.summary ?? "")")
    }
}
