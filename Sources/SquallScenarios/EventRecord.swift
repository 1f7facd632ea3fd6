import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer

/// One line of a run's event log, read back: its common fields and the rest as JSON.
///
/// Every metric is computed from these alone, so a stored `events.ndjson` can be re-checked without a re-run. A run
/// holds millions of them (`squall sim`), so the fields are a short array sorted by key, not a dictionary: a
/// record of a delivery takes about a third of the memory, and a lookup scans half a dozen keys.
public struct EventRecord: Sendable, Hashable {
    /// One field of the line.
    private struct Field: Sendable, Hashable {
        var key: String
        var value: JSONValue
    }

    /// Milliseconds since the Unix epoch.
    public var time: Double
    /// `run`, `server` or `client`.
    public var source: String
    /// The event's name.
    public var event: String
    /// Every other field of the line, sorted by key (`time`, `source` and `event` are the properties above).
    private var stored: [Field]

    /// Every field of the line.
    public var fields: [String: JSONValue] {
        var fields = Dictionary(self.stored.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        fields["time"] = .number(self.time)
        fields["source"] = .string(self.source)
        fields["event"] = .string(self.event)
        return fields
    }

    /// The fields other than `time`, `source` and `event`, sorted by key.
    public var fieldList: [(String, JSONValue)] {
        self.stored.map { ($0.key, $0.value) }
    }

    /// A field's value.
    public subscript(key: String) -> JSONValue? {
        switch key {
        case "time": return .number(self.time)
        case "source": return .string(self.source)
        case "event": return .string(self.event)
        default:
            for field in self.stored where field.key == key { return field.value }
            return nil
        }
    }

    /// The fields kept in ``stored``: all but the three held as properties, sorted by key, in one allocation.
    private static func sorted(_ fields: some Collection<(String, JSONValue)>) -> [Field] {
        var stored: [Field] = []
        stored.reserveCapacity(fields.count)
        for (key, value) in fields where key != "time" && key != "source" && key != "event" {
            stored.append(Field(key: key, value: value))
        }
        stored.sort { $0.key < $1.key }
        return stored
    }

    /// Reads one NDJSON line.
    ///
    /// - Throws: ``FaultError`` when the line is not a JSON object with a numeric `time` and string `source` and
    ///   `event`.
    public init(line: some Collection<UInt8>) throws(FaultError) {
        let value = try JSONValue.parse(line, strict: false)
        guard case .object(let fields) = value else {
            throw FaultError.invalidValue(path: "(line)", expected: "a JSON object", found: value.typeDescription)
        }
        guard case .number(let time)? = fields["time"] else {
            throw FaultError.invalidValue(
                path: "time",
                expected: "milliseconds since the Unix epoch",
                found: fields["time"]?.typeDescription ?? "nothing"
            )
        }
        guard case .string(let event)? = fields["event"] else {
            throw FaultError.invalidValue(
                path: "event",
                expected: "an event name",
                found: fields["event"]?.typeDescription ?? "nothing"
            )
        }
        let source: String
        if case .string(let text)? = fields["source"] { source = text } else { source = "client" }
        self.time = time
        self.source = source
        self.event = event
        self.stored = Self.sorted(fields.map { ($0.0, $0.1) })
    }

    /// The record of a line written from typed fields (a client or server event of the simulator), exactly as
    /// reading the line back would give it, without the text round trip.
    package init(fields list: [(String, EventField)]) {
        var time = 0.0
        var source = "client"
        var event = ""
        var fields: [(String, JSONValue)] = []
        fields.reserveCapacity(list.count)
        for (key, field) in list {
            let value: JSONValue
            switch field {
            case .string(let text): value = .string(text)
            case .bool(let flag): value = .bool(flag)
            case .null: value = .null
            case .integer, .number: value = .number(field.writtenNumber ?? 0)
            }
            switch (key, value) {
            case ("time", .number(let number)): time = number
            case ("source", .string(let text)): source = text
            case ("event", .string(let text)): event = text
            default: break
            }
            fields.append((key, value))
        }
        self.time = time
        self.source = source
        self.event = event
        self.stored = Self.sorted(fields.map { ($0.0, $0.1) })
    }

    /// The record of a run event as ``EventLog/recordRun(_:_:time:)`` writes it.
    package init(run name: RunEventName, _ list: [(String, JSONValue)], time: Double) {
        let written = (time * 1_000).rounded() / 1_000
        var fields: [String: JSONValue] = [
            "time": .number(written), "source": .string("run"), "event": .string(name.rawValue),
        ]
        for (key, value) in list { fields[key] = value }
        self.time = written
        self.source = "run"
        self.event = name.rawValue
        self.stored = Self.sorted(fields.map { ($0.0, $0.1) })
    }

    /// The record with its time moved by `delta` ms (a shard's clock onto the shared one).
    package func shifted(by delta: Double) -> EventRecord {
        var copy = self
        copy.time = ((self.time + delta) * 1_000).rounded() / 1_000
        return copy
    }

    /// Sets (or, with nil, removes) a field other than `time`, `source` and `event`.
    package mutating func set(_ key: String, _ value: JSONValue?) {
        self.stored.removeAll { $0.key == key }
        if let value {
            self.stored.append(Field(key: key, value: value))
            self.stored.sort { $0.key < $1.key }
        }
    }

    /// The record as one NDJSON line: `time`, `source`, `event`, then the other fields by key.
    package var jsonLine: String {
        var line =
            "{\"time\":\(JSONValue.format(self.time)),\"source\":\(JSONValue.quote(self.source)),\"event\":\(JSONValue.quote(self.event))"
        for field in self.stored {
            line += ",\(JSONValue.quote(field.key)):\(field.value.jsonText)"
        }
        return line + "}"
    }

    /// A string field.
    public func string(_ key: String) -> String? {
        if case .string(let text)? = self[key] { return text }
        return nil
    }

    /// A numeric field.
    public func number(_ key: String) -> Double? {
        if case .number(let value)? = self[key] { return value }
        return nil
    }

    /// An integer field.
    public func integer(_ key: String) -> Int? {
        guard let value = self.number(key), value == value.rounded(), abs(value) < 1e15 else { return nil }
        return Int(value)
    }

    /// The run event this is (`"source":"run"` with a known name), nil otherwise.
    public var runEvent: RunEventName? {
        self.source == "run" ? RunEventName(rawValue: self.event) : nil
    }

    /// The client event this is (`"source":"client"` with a name of the contract), nil otherwise.
    public var clientEvent: ClientEventName? {
        self.source == "client" ? ClientEventName(rawValue: self.event) : nil
    }

    /// Whether this is the server's record of a publication (`"source":"server","event":"published"`).
    public var isPublication: Bool {
        self.source == "server" && self.event == ReferenceServerEvent.publishedName
    }

    /// The client id (`client`).
    public var client: String? {
        self.string("client")
    }
}
