/// What a fault does, with its attributes in typed form.
///
/// ``Fault`` keeps the attributes as the user gave them (in their units); the proxy works from this typed view.
package enum FaultEffect: Sendable, Hashable {
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
    /// Closes the connection after `idle` without a byte either way, with an RST when `reset`.
    case idleTimeout(idle: Duration, reset: Bool)
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
    /// Acts on WebSocket upgrade requests.
    case blockUpgrade(mode: UpgradeBlockMode, status: Int, interval: Duration)
    /// Swallows pings and pongs.
    case dropPings
    /// Closes after `frames` data frames with `code` (1006: cut TCP).
    case closeAfterFrames(frames: Int, code: Int)
    /// Delays each frame.
    case delayFrames(delay: Duration)
    /// Fails matching requests, every `every`-th or with probability `rate` when positive: answers them with
    /// `status`, or (`hangs`) swallows them and leaves the connection silent.
    case failRequests(status: Int, every: Int, rate: Double, match: RequestMatch, hangs: Bool)
    /// Holds matching requests for `delay`.
    case delayRequests(delay: Duration, match: RequestMatch)
    /// Forwards matching requests without the header `name`.
    case stripHeader(name: String, match: RequestMatch)
    /// Drops chunks as ``ChunkLoss`` decides.
    case packetLoss(ChunkLoss)
    /// Stalls chunks for retransmissions as ``SegmentLoss`` decides.
    case tcpLoss(SegmentLoss)
    /// Holds an event stream's blocks until `bytes` are held (0: never by size), for at most `interval` when
    /// positive, or until something that is not a block (the stream's end) comes.
    case bufferStream(bytes: Int, interval: Duration)
    /// Cuts the connection at an event: after `events` events, or at each with probability `rate` when positive;
    /// halfway through that event's bytes when `midEvent`, with an RST when `reset`.
    case cutStream(events: Int, rate: Double, midEvent: Bool, reset: Bool)
    /// Drops events: every `every`-th when positive, else each with probability `rate`.
    case dropEvents(rate: Double, every: Int)
}

/// What `block_upgrade` does to a WebSocket upgrade request.
package enum UpgradeBlockMode: String, Sendable, Hashable, CaseIterable {
    /// Answer with a status and close, without forwarding the request.
    case reject
    /// Forward the request without its upgrade headers, so the server answers as plain HTTP.
    case strip
    /// Reset the client.
    case reset
    /// Never answer, never close.
    case hang
    /// Let the upgrade succeed, then deliver nothing either way while the socket stays open.
    case blackholeAfter101 = "blackhole_after_101"
    /// Let the upgrade succeed, then hold server frames and release them in bursts.
    case bufferAfter101 = "buffer_after_101"
}

/// Which HTTP requests a request fault matches.
package struct RequestMatch: Sendable, Hashable {
    /// A path prefix; empty matches every path.
    package var pathPrefix: String
    /// A method such as `GET`; empty matches every method.
    package var method: String

    /// Creates a matcher.
    package init(pathPrefix: String = "", method: String = "") {
        self.pathPrefix = pathPrefix
        self.method = method
    }

    /// Whether a request with this method and target matches.
    package func matches(method: String, uri: String) -> Bool {
        (self.method.isEmpty || self.method.uppercased() == method.uppercased())
            && (self.pathPrefix.isEmpty || uri.hasPrefix(self.pathPrefix))
    }
}

extension FaultEffect {
    /// Builds the typed effect from validated attribute values.
    ///
    /// - Parameters:
    ///   - type: the fault type.
    ///   - values: every attribute of the type, in its unit.
    ///   - path: where the attributes are, for errors that involve two attributes.
    /// - Throws: ``FaultError`` when attributes contradict each other.
    init(type: FaultType, values: [String: Double], text: [String: String], path: String) throws(FaultError) {
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
        case .idleTimeout:
            let preset = text["preset"].flatMap(IdleTimeoutPreset.init(rawValue:))
            self = .idleTimeout(idle: preset?.timeout ?? milliseconds("timeout"), reset: text["close"] == "reset")
        case .resetPeer: self = .resetPeer(timeout: milliseconds("timeout"))
        case .packetLoss:
            self = .packetLoss(ChunkLoss(lossRate: values["loss_rate"]!, correlation: values["correlation"]!))
        case .tcpLoss:
            self = .tcpLoss(
                SegmentLoss(
                    lossRate: values["loss_rate"]!,
                    correlation: values["correlation"]!,
                    segmentSize: whole("segment_size")
                )
            )
        case .blackhole: self = .blackhole
        case .down: self = .down
        case .refuse: self = .refuse
        case .slowOpen: self = .slowOpen(delay: milliseconds("delay"))
        case .connectBlackhole: self = .connectBlackhole
        case .blockUpgrade:
            self = .blockUpgrade(
                mode: UpgradeBlockMode(rawValue: text["mode"]!)!,
                status: whole("status"),
                interval: milliseconds("interval")
            )
        case .dropPings: self = .dropPings
        case .closeAfterFrames: self = .closeAfterFrames(frames: whole("frames"), code: whole("code"))
        case .delayFrames: self = .delayFrames(delay: milliseconds("delay"))
        case .failRequests:
            self = .failRequests(
                status: whole("status"),
                every: whole("every"),
                rate: values["rate"]!,
                match: RequestMatch(pathPrefix: text["path"]!, method: text["method"]!),
                hangs: text["mode"] == "hang"
            )
        case .stripHeader:
            self = .stripHeader(
                name: text["header"]!,
                match: RequestMatch(pathPrefix: text["path"]!, method: text["method"]!)
            )
        case .delayRequests:
            self = .delayRequests(
                delay: milliseconds("delay"),
                match: RequestMatch(pathPrefix: text["path"]!, method: text["method"]!)
            )
        case .bufferStream:
            self = .bufferStream(bytes: whole("bytes"), interval: milliseconds("interval"))
        case .cutStream:
            self = .cutStream(
                events: whole("events"),
                rate: values["rate"]!,
                midEvent: text["at"] == "mid_event",
                reset: text["close"] == "reset"
            )
        case .dropEvents:
            self = .dropEvents(rate: values["rate"]!, every: whole("every"))
        }
    }
}
