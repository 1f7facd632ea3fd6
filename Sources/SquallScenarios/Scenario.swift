import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer

/// A resilience scenario: the system under test, the clients, a timeline of network trouble and the gates the
/// outcome must pass. Read from JSON with ``Scenario/init(json:)``; every field is documented in the README.
public struct Scenario: Sendable {
    /// The scenario's name, used for its report folder (`[A-Za-z0-9._-]`).
    public var name: String
    /// What it shows.
    public var description: String
    /// The run seed: backoff jitter, toxicity draws, which clients a target picks. Default 1.
    public var seed: UInt64
    /// Multiplies every duration (timeline, client and server timings, fault times) so a scenario written in the
    /// seeds' real timings runs fast; reports convert back to scenario time. Default 1.
    public var timeScale: Double
    /// How long the run lasts, in scenario time.
    public var duration: Duration
    /// The server under test.
    public var server: ServerSpec
    /// The client groups.
    public var clients: [ClientGroup]
    /// The network profile every connection starts on (nil: loopback as is).
    public var network: NetworkProfile?
    /// What happens when.
    public var timeline: [TimelineEntry]
    /// The outcome checks.
    public var gates: [Gate]
    /// The scenario as written, for the report.
    public var source: JSONValue

    /// Every client, in start order.
    public var clientCount: Int {
        self.clients.reduce(0) { $0 + $1.count }
    }
}

/// The server a scenario runs against: the reference server (default) or a team's own (``external``).
public struct ServerSpec: Sendable, Hashable {
    /// The job each client follows: items and pace (scenario time), created with `POST /api/jobs`.
    public var job: JobCreation
    /// Reference server ping interval (scenario time); default 10 s.
    public var pingInterval: Duration
    /// Reference server pong timeout (scenario time); default 25 s.
    public var pongTimeout: Duration
    /// A team's own server instead of the reference one.
    public var external: ExternalServerSpec?

    /// Creates a reference-server spec.
    public init(
        job: JobCreation = JobCreation(),
        pingInterval: Duration = .seconds(10),
        pongTimeout: Duration = .seconds(25)
    ) {
        self.job = job
        self.pingInterval = pingInterval
        self.pongTimeout = pongTimeout
    }

    /// The reference server's configuration for this spec, in scenario time (a run plays it at its
    /// ``ScenarioClock``): its keep-alive timings, and an hour's retention so no job a run follows is forgotten.
    package var referenceConfiguration: ReferenceServerConfiguration {
        ReferenceServerConfiguration(
            pingInterval: self.pingInterval,
            pongTimeout: self.pongTimeout,
            retention: .seconds(3_600)
        )
    }
}

/// A team's own job-progress server: reached at `url` through the proxy, and started by Squall when `command` is
/// given (then stopped at the end, its output kept in the report folder as `server.log`).
public struct ExternalServerSpec: Sendable, Hashable {
    /// `http://host:port[/prefix]`; `{port}` stands for a free loopback port Squall picks (and passes to the
    /// command the same way).
    public var url: String
    /// How to start it (nil: it is already running).
    public var command: ExternalCommand?
    /// The path polled until the server answers (any HTTP status below 500); default `/`.
    public var readyPath: String
    /// How long (real time, not scaled) to wait for that answer; default 30 s.
    public var readyTimeout: Duration
}

/// A group of identical clients.
public struct ClientGroup: Sendable, Hashable {
    /// The group's name (default: its strategy's), used in client ids (`name-1`, `name-2`, …) and tag filters.
    public var name: String
    /// How many clients.
    public var count: Int
    /// The clients start evenly spread over this time (scenario time); default 0 (all at once).
    public var rampUp: Duration
    /// When the group's first client starts (scenario time); default 0.
    public var startAt: Duration
    /// The behaviour (a preset with any overrides applied; not yet time-scaled). Unused for an external group.
    public var strategy: ClientStrategy
    /// A team's own client program, started once per client instead of the reference client.
    public var command: ExternalCommand?

    /// The `strategy` tag of this group's clients: the preset's name, or `external`.
    public var strategyName: String {
        self.command == nil ? self.strategy.name : "external"
    }
}

/// One line of the timeline: at `at` (and every `every` after), do `action`; undo it after `for`.
public struct TimelineEntry: Sendable, Hashable {
    /// When, in scenario time.
    public var at: Duration
    /// How long it lasts (nil: until the end of the run).
    public var lasting: Duration?
    /// Repeat period (nil: once).
    public var every: Duration?
    /// What happens.
    public var action: Action
    /// Which groups (nil: all) and, for client actions, which fraction of their clients.
    public var target: Target
    /// The step's name in logs and gates: the fault's name, or `timeline-N.<kind>` (`timeline-3.handoff`).
    public var name: String
    /// What the step expects of the clients it targets (nil: nothing).
    public var expect: StepExpectation?

    /// How long the step's effect lasts once it starts: `for`, or a handoff's blackout (possibly zero: the cut is
    /// the whole effect); nil when it lasts until the end of the run.
    public var effectLength: Duration? {
        if case .handoff(let handoff) = self.action { return handoff.blackout }
        return self.lasting
    }

    /// The things a timeline can do.
    public enum Action: Sendable, Hashable {
        /// Add a fault to the selected groups' proxies.
        case fault(Fault)
        /// Cut every live connection, black out, switch profile.
        case handoff(Handoff)
        /// Switch the network profile (nil: back to plain loopback) without cutting connections.
        case profile(NetworkProfile?)
        /// Freeze clients (iOS background suspension): no timers, no reads, no pongs, for `for`.
        case suspend
        /// Restart the server's WebSocket side: every stream closes (1012), upgrades are refused for `for`.
        case serverRestart
    }

    /// What a timeline entry applies to.
    public struct Target: Sendable, Hashable {
        /// Group names (nil: every group).
        public var groups: [String]?
        /// For client actions: the fraction of the selected clients (seeded pick); default 1.
        public var clients: Double
        /// For faults: the fraction of connections hit (the fault's toxicity); default 1.
        public var connections: Double

        /// Everything.
        public static let all = Target(groups: nil, clients: 1, connections: 1)
    }
}

extension Scenario {
    /// The scenario with another seed, in its model and in the copy of its source that reports keep (so a replay
    /// of the report runs the same seed).
    public func seeded(_ seed: UInt64) -> Scenario {
        var copy = self
        copy.seed = seed
        if case .object(var members) = self.source {
            for key in members.keys where key.lowercased() == "seed" { members.removeValue(forKey: key) }
            members["seed"] = .number(Double(seed))
            copy.source = .object(members)
        }
        return copy
    }
}
