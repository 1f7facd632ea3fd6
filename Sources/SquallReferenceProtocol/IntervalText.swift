/// Durations as the progress protocol writes them: `"250ms"`, `"2s"`, `"1.5s"`, `"1m"`.
///
/// The reference system must not import Squall's chaos side, so it reads its own (small) duration syntax; it is the
/// same syntax scenarios use.
package enum IntervalText {
    /// Parses `"<number><unit>"` with unit `ms`, `s` or `m`, or a bare `"0"`.
    ///
    /// - Parameter text: the duration text.
    /// - Returns: the duration, or nil when the text is not a non-negative duration in those units.
    package static func parse(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        for (suffix, milliseconds) in [("ms", 1.0), ("s", 1_000.0), ("m", 60_000.0), ("h", 3_600_000.0)]
        where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let value = Double(number), value.isFinite, value * milliseconds < 1e12
            else { return nil }
            return .microseconds(Int64((value * milliseconds * 1_000).rounded()))
        }
        return nil
    }

    /// Renders a duration in milliseconds, e.g. `"250ms"`.
    ///
    /// - Parameter duration: the duration.
    /// - Returns: its text.
    package static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = Double(seconds) * 1_000 + Double(attoseconds) / 1e15
        if milliseconds == milliseconds.rounded() { return "\(Int64(milliseconds))ms" }
        return "\(milliseconds)ms"
    }
}
