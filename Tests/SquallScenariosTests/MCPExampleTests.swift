import Foundation
import SquallFaults
import SquallScenarios
import SquallTestSupport
import Testing

private let venvPython = ExampleScenario.packageRoot + "/examples/mcp/.venv/bin/python"

/// Whether `examples/mcp/setup.sh` has installed the Python MCP SDK into the example's venv.
private let mcpInstalled = PythonVenv.canImport("mcp, uvicorn, httpx2", python: venvPython)

/// A real MCP app (the Python MCP SDK's MCPServer over Streamable HTTP, with an event store) and the SDK's own
/// client calling a tool that streams progress, gated end to end through the proxy: what the SDK's resumability does
/// under mid-stream cuts, a stripped `Last-Event-ID`, a load balancer's idle timeout and an event store shared by
/// the sessions.
@Suite(.serialized)
struct MCPExampleTests {
    /// Runs `examples/mcp/NAME.json`.
    private func run(_ name: String) async throws -> RunRecord {
        try await ExampleScenario.run("examples/mcp/" + name + ".json")
    }

    private func verdicts(_ record: RunRecord) -> [String: Bool] { ExampleScenario.verdicts(record) }

    /// The SDK resuming a broken stream, as the wrapper reports it.
    private func resumptions(_ record: RunRecord) -> Int {
        record.records.filter { $0.event == "closed" && ($0.string("reason") ?? "").contains("event stream broke") }
            .count
    }

    @Test(.enabled(if: mcpInstalled, "needs the MCP example's venv: run bash examples/mcp/setup.sh"))
    func withoutFaultsEveryProgressNotificationArrivesOnceOverTheCallsStream() async throws {
        let record = try await self.run("normal")
        #expect(record.passed, "\(record.gates.map(\.summary))")
        #expect(record.metrics.clients.allSatisfy { $0.delivered == 20 && $0.deliveredByPolling == 0 })
        #expect(record.metrics.clients(matching: ["transport": "sse"]).count == 3)
        #expect(self.resumptions(record) == 0)
    }

    @Test(.enabled(if: mcpInstalled, "needs the MCP example's venv: run bash examples/mcp/setup.sh"))
    func midStreamCutsAreResumedWithLastEventIDAndNothingIsLost() async throws {
        let record = try await self.run("mid-stream-cut")
        #expect(record.passed, "\(record.gates.map(\.summary))")
        #expect(self.resumptions(record) >= 3, "the SDK resumed the broken streams itself")
        #expect(record.metrics.value(.timeToResume, .count) ?? 0 > 0)
    }

    @Test(.enabled(if: mcpInstalled, "needs the MCP example's venv: run bash examples/mcp/setup.sh"))
    func anEventStoreSharedByTheSessionsReplaysOtherClientsMessages() async throws {
        let record = try await self.run("shared-event-store")
        #expect(self.verdicts(record)["unexpected_messages count==0"] == false, "\(record.gates.map(\.summary))")
        #expect(self.verdicts(record)["duplicate_messages count==0"] == true, "another job's message is no duplicate")
        #expect(self.verdicts(record)["client_output_malformed count==0"] == true)
    }

    @Test(.enabled(if: mcpInstalled, "needs the MCP example's venv: run bash examples/mcp/setup.sh"))
    func aStrippedLastEventIDIsRefusedAndTheSDKGivesUpOnTheCall() async throws {
        let record = try await self.run("strip-last-event-id")
        let failures = record.records.filter { $0.event == "connect_failed" }.compactMap { $0.string("reason") }
        #expect(failures.contains("resumption answered 409"), "\(Set(failures))")
        let reasons = record.records.filter { $0.event == "closed" }.compactMap { $0.string("reason") }
        #expect(reasons.contains { $0.contains("reconnection attempts were exhausted") })
        #expect(self.verdicts(record)["update_latency_ms max<5000"] == false, "\(record.gates.map(\.summary))")
        #expect(self.verdicts(record)["completion_rate rate==1"] == true, "the wrapper's new call gets the rest")
        #expect(self.verdicts(record)["lost_messages count==0"] == true)
    }

    @Test(.enabled(if: mcpInstalled, "needs the MCP example's venv: run bash examples/mcp/setup.sh"))
    func blackHoledPostsCostAReadTimeoutEachUntilTheBlackHoleEnds() async throws {
        let record = try await self.run("post-black-hole")
        let reasons = record.records.filter { $0.event == "closed" }.compactMap { $0.string("reason") }
        #expect(reasons.filter { $0.contains("ReadTimeout") }.count >= 3, "\(reasons)")
        #expect(self.verdicts(record)["update_latency_ms max<5000"] == false, "\(record.gates.map(\.summary))")
        #expect(self.verdicts(record)["completion_rate rate==1"] == true)
        #expect(self.verdicts(record)["lost_messages count==0"] == true)
    }

    @Test(.enabled(if: mcpInstalled, "needs the MCP example's venv: run bash examples/mcp/setup.sh"))
    func aLoadBalancersIdleTimeoutIsResumedBetweenEvents() async throws {
        let record = try await self.run("idle-timeout")
        #expect(record.passed, "\(record.gates.map(\.summary))")
        #expect(self.resumptions(record) >= 3)
    }
}
