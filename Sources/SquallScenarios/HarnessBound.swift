import SquallFaults
import SquallReferenceClient

/// How late the harness may be before its verdict stops meaning anything: derived from the scenario's own timings.
///
/// The rule (also in the README): take every timing of the scenario that a late harness could turn into a failure
/// — each reference client group's `connectTimeout`, `requestTimeout`, `heartbeatTimeout` and `pollInterval`, the
/// reference server's `pingInterval` and `pongTimeout`, and the threshold of every gate on a latency trend (`<` or
/// `<=`) — in real time (after `timeScale`). The bound is a tenth of the shortest, never looser than
/// ``ceiling`` (however slow the scenario, a harness that stalls for longer is not healthy) and never tighter than
/// ``floor`` (the scheduling noise of a loaded machine; a scenario whose timings are shorter than ten floors is
/// judged at the floor, and `squall validate` says so).
///
/// A run's harness is overloaded when any lag probe fired later than the bound (see ``HarnessHealth``).
public struct HarnessBound: Sendable, Hashable {
    /// The bound, in real milliseconds.
    public var milliseconds: Double
    /// The timing it came from, e.g. `resilient pollInterval 2s × timeScale 0.2 = 400 ms`, or the floor/ceiling.
    public var reason: String
    /// The shortest timing found (real ms), nil when the scenario has none (external clients and server only).
    public var shortestTiming: Double?

    /// The loosest bound: 100 ms.
    public static let ceiling: Double = 100
    /// The tightest bound: 10 ms.
    public static let floor: Double = 10

    /// Derives the bound of a scenario.
    public init(_ scenario: Scenario) {
        let clock = ScenarioClock(scenario)
        var timings: [(name: String, scenarioMs: Double)] = []
        for group in scenario.clients where group.command == nil {
            let strategy = group.strategy
            timings.append(("\(group.name) connectTimeout", strategy.connectTimeout.milliseconds))
            timings.append(("\(group.name) requestTimeout", strategy.requestTimeout.milliseconds))
            timings.append(("\(group.name) pollInterval", strategy.pollInterval.milliseconds))
            if let heartbeat = strategy.heartbeatTimeout {
                timings.append(("\(group.name) heartbeatTimeout", heartbeat.milliseconds))
            }
        }
        if scenario.server.external == nil {
            timings.append(("server pingInterval", scenario.server.pingInterval.milliseconds))
            timings.append(("server pongTimeout", scenario.server.pongTimeout.milliseconds))
        }
        for gate in scenario.gates where gate.metric.kind == .trend && gate.metric.rawValue.hasSuffix("_ms") {
            guard gate.comparison == .less || gate.comparison == .lessOrEqual, gate.threshold > 0 else { continue }
            timings.append(("gate \(gate.key) \(gate.expression)", gate.threshold))
        }
        guard let shortest = timings.min(by: { $0.scenarioMs < $1.scenarioMs }) else {
            self.milliseconds = Self.ceiling
            self.shortestTiming = nil
            self.reason =
                "no timing of the scenario is known to Squall: the \(JSONValue.format(Self.ceiling)) ms ceiling"
            return
        }
        let real = clock.played(milliseconds: shortest.scenarioMs)
        let tenth = real / 10
        self.shortestTiming = real
        let timing =
            "\(shortest.name) \(Self.text(shortest.scenarioMs)) × timeScale \(JSONValue.format(clock.timeScale)) = \(Self.text(real))"
        if tenth > Self.ceiling {
            self.milliseconds = Self.ceiling
            self.reason = "the \(JSONValue.format(Self.ceiling)) ms ceiling (a tenth of \(timing) is looser)"
        } else if tenth < Self.floor {
            self.milliseconds = Self.floor
            self.reason =
                "the \(JSONValue.format(Self.floor)) ms floor (a tenth of \(timing) is tighter than a loaded machine can promise)"
        } else {
            self.milliseconds = (tenth * 1_000).rounded() / 1_000
            self.reason = "a tenth of \(timing)"
        }
    }

    /// Whether the scenario's timings are so short that the floor, not a tenth of them, bounds the harness.
    public var isAtFloor: Bool {
        (self.shortestTiming ?? .infinity) / 10 < Self.floor
    }

    private static func text(_ milliseconds: Double) -> String {
        milliseconds >= 1_000 && milliseconds.truncatingRemainder(dividingBy: 1_000) == 0
            ? "\(JSONValue.format(milliseconds / 1_000))s"
            : "\(JSONValue.format((milliseconds * 1_000).rounded() / 1_000)) ms"
    }
}
