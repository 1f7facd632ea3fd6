import Foundation
import SquallFaults
import SquallProxy
import SquallScenarios
import SquallSimulation
import Testing

/// The fidelity corpus (`Tests/Fidelity`, which CI runs both ways with `squall sim --compare`) is what it claims:
/// every fault type and mode, each once survived and once failing a gate.
@Suite struct FidelityCorpusTests {
    private static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fidelity")

    private static func scenarios() throws -> [Scenario] {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter {
            $0.hasSuffix(".json")
        }
        return try files.sorted().map { name in
            try Scenario(bytes: Array(try Data(contentsOf: Self.folder.appendingPathComponent(name))))
        }
    }

    @Test func everyFaultTypeAndModeIsThereSurvivedAndFailed() throws {
        let scenarios = try Self.scenarios()
        #expect(scenarios.count >= 40)
        let failing = scenarios.filter { $0.name.hasSuffix("-fails") }
        #expect(failing.count >= 15)
        var types = Set<FaultType>()
        var modes = Set<String>()
        for scenario in scenarios {
            for entry in scenario.timeline {
                switch entry.action {
                case .fault(let fault):
                    types.insert(fault.type)
                    if fault.type == .blockUpgrade, let mode = fault.textAttributes["mode"] { modes.insert(mode) }
                    if fault.type == .failRequests, let mode = fault.textAttributes["mode"] {
                        modes.insert("fail_requests \(mode)")
                    }
                case .handoff(let handoff): modes.insert("handoff \(handoff.mode)")
                case .profile: modes.insert("profile")
                case .suspend: modes.insert("suspend")
                case .serverRestart: modes.insert("server_restart")
                }
            }
        }
        let missing = FaultType.allCases.filter { $0 != .noop && !types.contains($0) }
        #expect(missing.isEmpty, "fault types without a scenario: \(missing)")
        for mode in UpgradeBlockMode.allCases.map(\.rawValue) + ["handoff reset", "handoff fin", "handoff blackhole"] {
            #expect(modes.contains(mode), "\(mode)")
        }
        #expect(modes.isSuperset(of: ["profile", "suspend", "server_restart", "fail_requests hang"]))
    }

    @Test func survivingScenariosPassAndFailingOnesFailInTheSimulator() throws {
        for scenario in try Self.scenarios() {
            let record = try SimulationRunner(scenario: scenario).run()
            if scenario.name.hasSuffix("-fails") {
                #expect(record.verdict == .failed, "\(scenario.name): \(record.gates.map(\.summary))")
            } else {
                #expect(record.verdict == .passed, "\(scenario.name): \(record.gates.map(\.summary))")
            }
        }
    }
}
