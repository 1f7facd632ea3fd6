import SquallFaults
import SquallScenarios

/// What `squall sim` cannot run, refused before anything starts with the JSON path of each (every one, not only the
/// first): external servers and clients, whose code runs only on real sockets. Every fault and action has a
/// simulated meaning.
enum SimulationCheck {
    /// Checks a parsed scenario.
    ///
    /// - Throws: ``FaultError`` naming each path `squall sim` cannot run.
    static func check(_ scenario: Scenario) throws(FaultError) {
        var errors: [FaultError] = []
        if let external = scenario.server.external {
            errors.append(
                FaultError.invalidValue(
                    path: external.command != nil ? "server.command" : "server.url",
                    expected: "the reference server: squall sim runs it in virtual time (use squall run for your own)",
                    found: external.command != nil ? "a command" : "\"\(external.url)\""
                )
            )
        }
        for (index, group) in scenario.clients.enumerated() where group.command != nil {
            errors.append(
                FaultError.invalidValue(
                    path: "clients[\(index)].command",
                    expected: "a strategy preset: squall sim runs the reference client (use squall run for your own)",
                    found: "a command"
                )
            )
        }
        if errors.count == 1 { throw errors[0] }
        if !errors.isEmpty {
            throw FaultError.several(Array(errors.prefix(Scenario.maximumErrors)), total: errors.count)
        }
    }
}
