/// What a fault's rule is told about one direction of one connection. Times are durations since an origin the
/// carrier chooses (the proxy's uptime clock, the simulator's virtual clock), and never go back.
package enum StreamInput: Sendable, Hashable {
    /// The rule starts acting, or its fault's attributes changed: the effect now in force.
    case configured(FaultEffect, at: Duration)
    /// A unit arrived.
    case unit(StreamUnit, at: Duration)
    /// The end of the stream arrived: the sender closed its side.
    case end(at: Duration)
    /// The wake-up the rule asked for (``StreamDecision/wake(at:)``) is due.
    case timer(at: Duration)

    /// When it happens.
    package var time: Duration {
        switch self {
        case .configured(_, let time), .unit(_, let time), .end(let time), .timer(let time): time
        }
    }
}
