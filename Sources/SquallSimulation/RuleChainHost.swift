import SquallFaults

/// The connection a ``SimulatedRuleChain`` carries its faults' decisions out on: its clock, whether it is still open,
/// the seeded generators of its faults, and the closes a rule may decide.
package protocol RuleChainHost: AnyObject {
    /// The simulation's clock.
    var scheduler: SimulationScheduler { get }
    /// Whether the connection still carries anything.
    var isOpen: Bool { get }
    /// The seeded generator of one fault's choices on one direction of the connection.
    func random(for fault: String, _ direction: FaultDirection) -> SeededRandom
    /// Closes the connection under both ends, as a rule decided (FIN or RST).
    func close(by decision: StreamDecision.Close)
    /// Ends the WebSocket with `code` both ways (1006: a cut).
    func endWebSocket(code: Int)
}
