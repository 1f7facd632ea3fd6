extension Duration {
    /// Parses a human duration such as `"250ms"`, `"2s"`, `"1.5s"`, `"1m"`, `"500us"` or `"0"`.
    ///
    /// Units: `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`. A bare `0` is allowed; other bare numbers are not, because
    /// their unit would be a guess.
    ///
    /// - Parameter text: the duration text.
    /// - Returns: the duration, or nil when the text is not a non-negative duration.
    public init?(parsing text: String) {
        let trimmed = String(text.squallTrimmed)
        if trimmed == "0" {
            self = .zero
            return
        }
        let units: [(suffix: String, nanoseconds: Double)] = [
            ("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
        ]
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }),
                let value = Double(number), value.isFinite, value >= 0
            else { continue }
            let nanoseconds = value * unit.nanoseconds
            guard nanoseconds < 1e18 else { return nil }
            self = .nanoseconds(Int64(nanoseconds.rounded()))
            return
        }
        return nil
    }

    /// The duration in seconds as a floating-point number.
    public var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in milliseconds as a floating-point number.
    public var milliseconds: Double {
        self.seconds * 1000
    }

    /// Renders the duration in the shortest of Squall's units that shows it exactly, e.g. `250ms`, `2s`.
    public var squallText: String {
        let nanoseconds = self.nanosecondCount
        if nanoseconds == 0 { return "0" }
        for (suffix, size) in [
            ("h", Int64(3_600_000_000_000)), ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000),
            ("us", 1_000),
        ]
        where nanoseconds % size == 0 {
            return "\(nanoseconds / size)\(suffix)"
        }
        return "\(nanoseconds)ns"
    }

    /// The duration as whole nanoseconds, saturating at `Int64.max`.
    public var nanosecondCount: Int64 {
        let (seconds, attoseconds) = self.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product &+ attoseconds / 1_000_000_000
    }
}

extension String {
    /// The text without leading and trailing blanks.
    fileprivate var squallTrimmed: Substring {
        let blanks: Set<Character> = [" ", "\t", "\n", "\r"]
        var slice = Substring(self)
        while let first = slice.first, blanks.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, blanks.contains(last) { slice = slice.dropLast() }
        return slice
    }
}
