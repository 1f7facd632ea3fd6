import Foundation
import SquallScenarios

/// The repository's example scenarios (`examples/…`), loaded so tests can run them from anywhere.
enum ExampleScenario {
    /// The repository's root.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The scenario at `path` (under the root), with the `examples/…` paths of its server's and clients' commands
    /// made absolute.
    static func load(_ path: String) throws -> Scenario {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.packageRoot + "/" + path))
        var scenario = try Scenario(bytes: Array(data))
        func absolute(_ command: ExternalCommand) -> ExternalCommand {
            var command = command
            command.arguments = command.arguments.map { $0.hasPrefix("examples/") ? Self.packageRoot + "/" + $0 : $0 }
            return command
        }
        if var external = scenario.server.external {
            external.command = external.command.map(absolute)
            scenario.server.external = external
        }
        for index in scenario.clients.indices {
            scenario.clients[index].command = scenario.clients[index].command.map(absolute)
        }
        return scenario
    }

    /// Runs the scenario at `path`.
    static func run(_ path: String) async throws -> RunRecord {
        try await ScenarioRunner(scenario: try Self.load(path)).run()
    }

    /// Each gate's verdict, by `key expression`.
    static func verdicts(_ record: RunRecord) -> [String: Bool] {
        Dictionary(uniqueKeysWithValues: record.gates.map { ("\($0.gate.key) \($0.gate.expression)", $0.passed) })
    }
}
