import SquallFaults

/// A run log's header (its `scenario` event): the scenario as given and what the run was — seed, scale, digests,
/// version, cores, build, mode, shard — as an ordered set of fields, so it is written back in the order it came.
public struct RunHeader: Sendable, Hashable {
    /// The keys in the order written.
    public private(set) var keys: [String]
    /// The values by key.
    public private(set) var values: [String: JSONValue]

    /// A header of `fields`, in their order (a key given twice keeps its first value).
    public init(_ fields: [(String, JSONValue)]) {
        self.keys = []
        self.values = [:]
        for (key, value) in fields where self.values[key] == nil {
            self.keys.append(key)
            self.values[key] = value
        }
    }

    /// A field's value.
    public subscript(key: String) -> JSONValue? {
        self.values[key]
    }

    /// The fields in the order written.
    public var fields: [(String, JSONValue)] {
        self.keys.map { ($0, self.values[$0]!) }
    }

    /// The header of a run's events: its first `scenario` event.
    public init?(events: [LoggedEvent]) {
        for logged in events {
            if case .run(.scenario(let header)) = logged.event {
                self = header
                return
            }
        }
        return nil
    }

    /// The header of a run's records: its first `scenario` event.
    public init?(records: [EventRecord]) {
        guard let line = records.first(where: { $0.source == "run" && $0.event == RunEventName.scenario.rawValue }),
            case .run(.scenario(let header)) = RunEvent(line)
        else { return nil }
        self = header
    }

    private func text(_ key: String) -> String? { self.values[key]?.stringValue }
    private func integer(_ key: String) -> Int? {
        guard let value = self.values[key]?.numberValue, value == value.rounded(), abs(value) < 1e15 else { return nil }
        return Int(value)
    }

    /// The scenario as given (`scenario`).
    public var scenario: JSONValue? { self.values["scenario"] }
    /// The scale the run played at (`timeScale`; 1 when absent, and in a simulation).
    public var timeScale: Double { self.values["timeScale"]?.numberValue ?? 1 }
    /// Whether the run was simulated (`mode` `sim`).
    public var isSimulated: Bool { self.text("mode") == "sim" }
    /// The machine's cores (`cores`), for a real run.
    public var cores: Int? { self.integer("cores") }
    /// `debug` or `release` (`build`), for a real run.
    public var build: String? { self.text("build") }
    /// The shard's index (`shard`) and the shard count (`shards`), for a shard's log.
    public var shard: (index: Int, count: Int)? {
        guard let index = self.integer("shard"), let count = self.integer("shards") else { return nil }
        return (index, count)
    }
    /// How far the shard's clock was moved onto the shared one (`clockOffsetMs`).
    public var clockOffset: Double { self.values["clockOffsetMs"]?.numberValue ?? 0 }
    /// The plan's digest (`planDigest`).
    public var planDigest: String { self.text("planDigest") ?? "" }
    /// The scenario's digest (`scenarioDigest`).
    public var scenarioDigest: String { self.text("scenarioDigest") ?? "" }
    /// The version of Squall that wrote it (`version`).
    public var version: String { self.text("version") ?? "" }
    /// The run's seed (`seed`).
    public var seed: Int? { self.integer("seed") }
}
