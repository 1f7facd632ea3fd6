/// One sample a gate judges, with the stretch of the run that produced it: a message's publication → its delivery,
/// a cut → the recovery, the first attempt → the fallback, a publication → the end of the client that lost it.
///
/// The stretch is what lets a verdict tell the app's failures from the harness's: a bad sample whose stretch lies
/// outside every overload window was produced while the harness kept up (see ``GateVerdict``); its start places
/// the sample in a window gate's sliding windows.
public struct Observation: Sendable, Hashable {
    /// The value: a duration in scenario ms (trends), 1 or 0 (rates: the event happened or not), a number of events
    /// (counters, usually 1).
    public var value: Double
    /// When the stretch that produced it began (log time, ms since the epoch).
    public var start: Double
    /// When it ended (log time); equal to ``start`` for an instant.
    public var end: Double

    /// A sample over a stretch.
    public init(value: Double, start: Double, end: Double) {
        self.value = value
        self.start = start
        self.end = max(start, end)
    }

    /// A sample of one instant.
    public init(value: Double = 1, at time: Double) {
        self.init(value: value, start: time, end: time)
    }

    /// Whether its stretch shares a moment with `[start, end]`.
    public func overlaps(start: Double, end: Double) -> Bool {
        self.start <= end && start <= self.end
    }
}
