import SquallFaults
import SquallScenarios

/// What `squall sim` cannot run, refused before anything starts with the JSON path of each (every one, not only the
/// first): external servers and clients (their code runs only on real sockets) and the fault modes the simulator
/// has no meaning for yet.
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
        for (index, entry) in scenario.timeline.enumerated() {
            guard case .fault(let fault) = entry.action else { continue }
            if case .blockUpgrade(.bufferAfter101, _, _) = fault.effect {
                errors.append(
                    FaultError.invalidValue(
                        path: "timeline[\(index)].fault.attributes.mode",
                        expected:
                            "a block_upgrade mode squall sim simulates (reject, strip, reset, hang, blackhole_after_101)",
                        found: "\"buffer_after_101\""
                    )
                )
            }
        }
        if errors.count == 1 { throw errors[0] }
        if !errors.isEmpty {
            throw FaultError.several(Array(errors.prefix(Scenario.maximumErrors)), total: errors.count)
        }
    }
}
