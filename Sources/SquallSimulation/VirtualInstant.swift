/// A moment of a simulation: virtual milliseconds since it started. What the simulator hands the reference
/// system's values that keep time (``JobBoard``), so they run on the virtual clock as on the monotonic one.
struct VirtualInstant: InstantProtocol, Sendable {
    /// Virtual milliseconds since the simulation started.
    var milliseconds: Double

    /// The moment `milliseconds` into the simulation.
    init(_ milliseconds: Double) {
        self.milliseconds = milliseconds
    }

    func advanced(by duration: Duration) -> VirtualInstant {
        VirtualInstant(self.milliseconds + duration.simulationMilliseconds)
    }

    func duration(to other: VirtualInstant) -> Duration {
        .nanoseconds(Int64(((other.milliseconds - self.milliseconds) * 1e6).rounded()))
    }

    static func < (lhs: VirtualInstant, rhs: VirtualInstant) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }
}
