/// The one meaning of a fault that acts on the units of one direction of a live connection: a value per fault type
/// that takes what happens (a unit or the end arrives, a wake-up is due, the attributes change) and returns
/// decisions (``StreamDecision``). The proxy's stage carries them out on sockets, the simulator's chain in virtual
/// time; neither decides anything itself.
package enum StreamRule: Sendable {
    /// Passes everything at once (faults that act elsewhere: on connects, the whole proxy, requests' answers).
    case passThrough
    /// `latency`.
    case latency(LatencyRule)
    /// `bandwidth`.
    case bandwidth(BandwidthRule)
    /// `slicer`.
    case slicer(SlicerRule)
    /// `slow_close`.
    case slowClose(SlowCloseRule)
    /// `limit_data`.
    case limitData(LimitDataRule)
    /// `timeout` and `blackhole`.
    case drop(DropRule)
    /// `reset_peer`.
    case resetPeer(ResetPeerRule)
    /// `drop_pings` and `close_after_frames`.
    case frames(FrameRule)
    /// `delay_frames` and `delay_requests`.
    case messageDelay(MessageDelayRule)
    /// `packet_loss`.
    case packetLoss(PacketLossRule)
    /// `tcp_loss`.
    case tcpLoss(TCPLossRule)
    /// `buffer_stream`.
    case bufferStream(StreamBufferRule)
    /// `cut_stream`.
    case cutStream(StreamCutRule)
    /// `drop_events`.
    case dropEvents(EventDropRule)

    /// The rule of `effect` on one direction of one connection, with that direction's generator for the fault,
    /// starting at `time`.
    package init(_ effect: FaultEffect, random: SeededRandom, at time: Duration) {
        switch effect {
        case .latency(let delay, let jitter):
            self = .latency(LatencyRule(delay: delay, jitter: jitter, random: random))
        case .bandwidth(let rate, let burst):
            self = .bandwidth(BandwidthRule(bytesPerSecond: rate, burst: burst, at: time))
        case .slicer(let average, let variation, let delay):
            self = .slicer(SlicerRule(averageSize: average, sizeVariation: variation, delay: delay, random: random))
        case .slowClose(let delay):
            self = .slowClose(SlowCloseRule(delay: delay))
        case .limitData(let bytes):
            self = .limitData(LimitDataRule(bytes: bytes))
        case .timeout(let idle):
            self = .drop(.timeout(idle: idle))
        case .blackhole:
            self = .drop(.blackhole)
        case .resetPeer(let timeout):
            self = .resetPeer(ResetPeerRule(timeout: timeout))
        case .dropPings, .closeAfterFrames:
            self = .frames(FrameRule(effect: effect))
        case .delayFrames, .delayRequests:
            self = .messageDelay(MessageDelayRule(effect: effect))
        case .packetLoss(let loss):
            self = .packetLoss(PacketLossRule(loss, random: random))
        case .tcpLoss(let loss):
            self = .tcpLoss(TCPLossRule(loss, random: random))
        case .bufferStream(let bytes, let interval):
            self = .bufferStream(StreamBufferRule(bytes: bytes, interval: interval))
        case .cutStream(let events, let rate, let midEvent, let reset):
            self = .cutStream(
                StreamCutRule(events: events, rate: rate, midEvent: midEvent, reset: reset, random: random)
            )
        case .dropEvents(let rate, let every):
            self = .dropEvents(EventDropRule(rate: rate, every: every, random: random))
        case .noop, .limitTime, .idleTimeout, .down, .refuse, .slowOpen, .connectBlackhole, .blockUpgrade,
            .failRequests, .stripHeader:
            self = .passThrough
        }
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch self {
        case .passThrough:
            switch input {
            case .unit(_, let time): return [.pass(bytes: nil, at: time)]
            case .end(let time): return [.passEnd(at: time)]
            case .configured, .timer: return []
            }
        case .latency(var rule):
            defer { self = .latency(rule) }
            return rule.receive(input)
        case .bandwidth(var rule):
            defer { self = .bandwidth(rule) }
            return rule.receive(input)
        case .slicer(var rule):
            defer { self = .slicer(rule) }
            return rule.receive(input)
        case .slowClose(var rule):
            defer { self = .slowClose(rule) }
            return rule.receive(input)
        case .limitData(var rule):
            defer { self = .limitData(rule) }
            return rule.receive(input)
        case .drop(var rule):
            defer { self = .drop(rule) }
            return rule.receive(input)
        case .resetPeer(var rule):
            defer { self = .resetPeer(rule) }
            return rule.receive(input)
        case .frames(var rule):
            defer { self = .frames(rule) }
            return rule.receive(input)
        case .messageDelay(var rule):
            defer { self = .messageDelay(rule) }
            return rule.receive(input)
        case .packetLoss(var rule):
            defer { self = .packetLoss(rule) }
            return rule.receive(input)
        case .tcpLoss(var rule):
            defer { self = .tcpLoss(rule) }
            return rule.receive(input)
        case .bufferStream(var rule):
            defer { self = .bufferStream(rule) }
            return rule.receive(input)
        case .cutStream(var rule):
            defer { self = .cutStream(rule) }
            return rule.receive(input)
        case .dropEvents(var rule):
            defer { self = .dropEvents(rule) }
            return rule.receive(input)
        }
    }
}
