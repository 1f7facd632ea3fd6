/// What a fault does, with its attributes in typed form.
///
/// ``Fault`` keeps the attributes as the user gave them (in their units); the proxy works from this typed view.
public enum FaultEffect: Sendable, Hashable {
    /// Passes everything through.
    case noop
    /// Delays each chunk by `delay` plus a uniform draw in `-jitter...jitter`.
    case latency(delay: Duration, jitter: Duration)
    /// Token bucket of `bytesPerSecond` with `burst` bytes of allowance; a rate of 0 pauses.
    case bandwidth(bytesPerSecond: Double, burst: Int)
    /// Cuts chunks into pieces of about `averageSize` ± `sizeVariation`, pausing `delay` after each.
    case slicer(averageSize: Int, sizeVariation: Int, delay: Duration)
    /// Holds back the close of the direction by `delay`.
    case slowClose(delay: Duration)
    /// Forwards `bytes`, then closes.
    case limitData(bytes: Int)
    /// Drops data; closes after `idle` without incoming data, never when zero.
    case timeout(idle: Duration)
    /// Closes the connection when it is `lifetime` old.
    case limitTime(lifetime: Duration)
    /// Resets the connection `timeout` after its first data in this direction.
    case resetPeer(timeout: Duration)
    /// Delivers nothing and hides the close.
    case blackhole
    /// Takes the proxy down.
    case down
    /// Resets new connections at once.
    case refuse
    /// Waits `delay` before connecting upstream.
    case slowOpen(delay: Duration)
    /// Never connects upstream, never answers.
    case connectBlackhole
}

extension FaultEffect {
    /// Builds the typed effect from validated attribute values.
    ///
    /// - Parameters:
    ///   - type: the fault type.
    ///   - values: every attribute of the type, in its unit.
    ///   - path: where the attributes are, for errors that involve two attributes.
    /// - Throws: ``FaultError`` when attributes contradict each other.
    init(type: FaultType, values: [String: Double], path: String) throws(FaultError) {
        func milliseconds(_ key: String) -> Duration { .nanoseconds(Int64((values[key]! * 1e6).rounded())) }
        func whole(_ key: String) -> Int { Int(values[key]!) }
        switch type {
        case .noop: self = .noop
        case .latency: self = .latency(delay: milliseconds("latency"), jitter: milliseconds("jitter"))
        case .bandwidth: self = .bandwidth(bytesPerSecond: values["rate"]! * 1000, burst: whole("burst"))
        case .slicer:
            let average = whole("average_size")
            let variation = whole("size_variation")
            guard variation < average else {
                throw FaultError.invalidValue(
                    path: path.isEmpty ? "size_variation" : "\(path).size_variation",
                    expected: "a whole number of bytes below average_size (\(average))",
                    found: "number \(variation)"
                )
            }
            self = .slicer(
                averageSize: average,
                sizeVariation: variation,
                delay: .nanoseconds(Int64((values["delay"]! * 1e3).rounded()))
            )
        case .slowClose: self = .slowClose(delay: milliseconds("delay"))
        case .limitData: self = .limitData(bytes: whole("bytes"))
        case .timeout: self = .timeout(idle: milliseconds("timeout"))
        case .limitTime: self = .limitTime(lifetime: milliseconds("lifetime"))
        case .resetPeer: self = .resetPeer(timeout: milliseconds("timeout"))
        case .blackhole: self = .blackhole
        case .down: self = .down
        case .refuse: self = .refuse
        case .slowOpen: self = .slowOpen(delay: milliseconds("delay"))
        case .connectBlackhole: self = .connectBlackhole
        }
    }
}
