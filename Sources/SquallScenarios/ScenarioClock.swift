import SquallFaults
import SquallReferenceProtocol
import SquallReferenceServer

/// How a scenario's time maps to the time a run plays in: `timeScale` (0.1 plays a minute in six seconds).
///
/// The one place the scale is applied. A scenario, its plan, its event log's step fields and its reports are in
/// scenario time; what a run hands its world — when a step or a client is due, a fault's and a profile's timings,
/// a blackout, a suspension, a restart's downtime, the server's keep-alive timings, a job's pace — goes through
/// ``played(_:)-(Duration)`` and its siblings, and what it measures comes back through
/// ``scenarioMilliseconds(_:)``. `squall sim` plays at scale 1 (``unscaled``): virtual time costs nothing.
public struct ScenarioClock: Sendable, Hashable {
    /// Played time = scenario time × `timeScale`.
    public let timeScale: Double

    /// The clock of a run played at `timeScale`.
    public init(timeScale: Double) {
        self.timeScale = timeScale
    }

    /// The clock of a scenario: its `timeScale`.
    public init(_ scenario: Scenario) {
        self.init(timeScale: scenario.timeScale)
    }

    /// Scenario time as it is: what the simulator plays in.
    public static let unscaled = ScenarioClock(timeScale: 1)

    // MARK: Scenario time → played time

    /// A scenario duration (or a moment since the start) as played.
    public func played(_ duration: Duration) -> Duration {
        duration * self.timeScale
    }

    /// A scenario span in milliseconds as played.
    public func played(milliseconds: Double) -> Double {
        milliseconds * self.timeScale
    }

    /// The fault as applied: its time attributes (milliseconds, microseconds) multiplied; sizes and rates left
    /// alone.
    ///
    /// - Throws: ``FaultError`` when a played value leaves its attribute's range (a day at most for durations).
    public func played(_ fault: Fault) throws(FaultError) -> Fault {
        guard self.timeScale != 1 else { return fault }
        var attributes = fault.attributes
        var text = fault.textAttributes
        // A named intermediary's idle timeout is a duration too: spell it out so it scales like the others.
        if fault.type == .idleTimeout, let preset = text["preset"].flatMap(IdleTimeoutPreset.init(rawValue:)) {
            attributes["timeout"] = preset.timeout.milliseconds
            text["preset"] = ""
        }
        for attribute in fault.type.attributes {
            switch attribute.unit {
            case .milliseconds, .microseconds:
                if let value = attributes[attribute.name] { attributes[attribute.name] = value * self.timeScale }
            case .bytes, .kilobytesPerSecond, .count, .number, .text:
                continue
            }
        }
        var played = try Fault(
            name: fault.name,
            type: fault.type,
            direction: fault.direction,
            toxicity: fault.toxicity,
            attributes: attributes,
            text: text
        )
        played.connections = fault.connections
        played.clients = fault.clients
        return played
    }

    /// The profile as applied: latency and jitter multiplied (bandwidth left alone).
    public func played(_ profile: NetworkProfile?) -> NetworkProfile? {
        guard var played = profile, self.timeScale != 1 else { return profile }
        played.upstream.latency = played.upstream.latency * self.timeScale
        played.upstream.jitter = played.upstream.jitter * self.timeScale
        played.downstream.latency = played.downstream.latency * self.timeScale
        played.downstream.jitter = played.downstream.jitter * self.timeScale
        return played
    }

    /// The handoff as performed: its blackout and its new profile played.
    public func played(_ handoff: Handoff) -> Handoff {
        var played = handoff
        played.blackout = self.played(handoff.blackout)
        played.profile = self.played(handoff.profile)
        return played
    }

    /// The job as the server runs it: its pace played.
    public func played(_ creation: JobCreation) -> JobCreation {
        var played = creation
        played.itemInterval = self.played(creation.itemInterval)
        return played
    }

    /// The server's keep-alive timings (ping, pong, ready, close, an event stream's `retry:`) played, and its idle
    /// timeout kept above two pong timeouts; retention is not played.
    public func played(_ configuration: ReferenceServerConfiguration) -> ReferenceServerConfiguration {
        var played = configuration
        played.pingInterval = self.played(configuration.pingInterval)
        played.eventStreamRetry = self.played(configuration.eventStreamRetry)
        played.pongTimeout = self.played(configuration.pongTimeout)
        played.readyTimeout = self.played(configuration.readyTimeout)
        played.closeTimeout = self.played(configuration.closeTimeout)
        played.idleTimeout = max(configuration.idleTimeout, played.pongTimeout * 2)
        return played
    }

    // MARK: Played time → scenario time

    /// A played span, in scenario time.
    public func scenario(_ played: Duration) -> Duration {
        played / self.timeScale
    }

    /// A played span in milliseconds, in scenario milliseconds.
    public func scenarioMilliseconds(_ played: Double) -> Double {
        played / self.timeScale
    }

    /// The scenario milliseconds from played moment `start` to played moment `time` (both ms since the epoch).
    public func scenarioMilliseconds(from start: Double, to time: Double) -> Double {
        (time - start) / self.timeScale
    }
}
