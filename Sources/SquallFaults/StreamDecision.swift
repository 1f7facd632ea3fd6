/// What a fault's rule decides; its carrier (a proxy stage on sockets, the simulator's chain in virtual time) does
/// exactly this.
///
/// Decisions about units apply to the oldest unit not yet wholly passed or dropped: every fault keeps a stream's
/// order, so a rule never names a unit. A unit no decision covers yet is held (a paused `bandwidth`) until a later
/// decision, or until the fault is lifted and the carrier lets it through.
package enum StreamDecision: Sendable, Hashable {
    /// How a connection is closed.
    package enum Close: Sendable, Hashable {
        /// An orderly close (FIN) both ways.
        case fin
        /// A reset (RST) both ways.
        case reset
    }

    /// Pass on the next `bytes` bytes of the oldest undecided unit (all that is left of it when nil), due at `at`
    /// and never before what was passed earlier.
    case pass(bytes: Int?, at: Duration)
    /// Drop what is left of the oldest undecided unit.
    case drop
    /// Pass the end of the stream on, due at `at`, after everything passed before it.
    case passEnd(at: Duration)
    /// Swallow the end of the stream: the receiver never learns that the sender closed.
    case dropEnd
    /// Tell the rule ``StreamInput/timer(at:)`` at `at`, replacing any earlier wake-up.
    case wake(at: Duration)
    /// Close the connection now.
    case close(Close)
    /// End the WebSocket now: a close frame with `code` both ways (1006, never sent on the wire, cuts TCP).
    case closeWebSocket(code: Int)
}
