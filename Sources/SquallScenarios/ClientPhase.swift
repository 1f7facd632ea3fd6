import SquallReferenceClient

/// Where a client is, as its events say: the one reading of a client's events into a phase, which the progress line
/// and the report's client lanes and clients-by-state chart all follow.
public enum ClientPhase: Sendable, Hashable, CaseIterable {
    /// Not started yet.
    case waiting
    /// Connecting or reconnecting: no WebSocket, not polling.
    case connecting
    /// On an open WebSocket.
    case websocket
    /// On an open event stream (the `sse` rung of a client's ladder).
    case eventStream
    /// Polling.
    case polling
    /// Frozen by a `suspend` step.
    case suspended
    /// Its job finished, or the run stopped it (final).
    case done
}

/// One client's phase, followed event by event.
public struct ClientPhaseTracker: Sendable, Hashable {
    /// The phase now.
    public private(set) var phase: ClientPhase = .waiting
    /// The phase a suspension froze, to go back to when it resumes.
    private var frozen: ClientPhase?

    /// A client not started yet.
    public init() {}

    /// The phase a suspended client was in when it was frozen (else ``phase``): where it stands for a count of
    /// clients by transport.
    public var underlying: ClientPhase {
        self.phase == .suspended ? (self.frozen ?? .connecting) : self.phase
    }

    /// The client started.
    ///
    /// - Returns: whether the phase changed.
    @discardableResult
    public mutating func started() -> Bool {
        guard self.phase == .waiting else { return false }
        return self.enter(.connecting)
    }

    /// The client reported `kind` (a `connected` names the transport of its link).
    ///
    /// - Returns: whether the phase changed.
    @discardableResult
    public mutating func apply(_ kind: ClientEvent.Kind) -> Bool {
        if case .connected(_, _, let via) = kind { return self.apply(.connected, via: via) }
        return self.apply(kind.eventName)
    }

    /// The client reported `event`, by its name (as an external client's line gives it); a `connected` link is over
    /// `via` (WebSocket unless told).
    ///
    /// - Returns: whether the phase changed.
    @discardableResult
    public mutating func apply(_ event: ClientEventName, via: HybridClientStateMachine.Transport = .websocket) -> Bool {
        guard self.phase != .done else { return false }
        switch event {
        case .connectAttempt:
            return self.phase == .polling ? false : self.enter(.connecting)
        case .connected:
            return self.enter(via == .sse ? .eventStream : .websocket)
        case .recovered:
            // The `connected` before it said which link; an external client may report `recovered` alone.
            return self.phase == .websocket || self.phase == .eventStream ? false : self.enter(.websocket)
        case .closed, .connectFailed, .reconnectAttempt, .steppedDown:
            return self.phase == .polling ? false : self.enter(.connecting)
        case .fallback:
            return self.enter(.polling)
        case .suspended:
            self.frozen = self.phase
            return self.enter(.suspended)
        case .resumed:
            return self.enter(self.frozen ?? .connecting)
        case .finished, .stopped:
            return self.enter(.done)
        case .poll, .stateSync, .delivered, .duplicateDropped:
            return false
        }
    }

    /// The client was marked done without an event (its process exited, or it never started).
    public mutating func finish() {
        self.phase = .done
    }

    private mutating func enter(_ phase: ClientPhase) -> Bool {
        guard phase != self.phase else { return false }
        self.phase = phase
        return true
    }
}
