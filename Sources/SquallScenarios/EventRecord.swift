import SquallFaults
import SquallReferenceClient
import SquallReferenceServer

/// One line of a run's event log, read back: its common fields and the rest as JSON.
///
/// Every metric is computed from these alone, so a stored `events.ndjson` can be re-checked without a re-run.
public struct EventRecord: Sendable, Hashable {
    /// Milliseconds since the Unix epoch.
    public var time: Double
    /// `run`, `server` or `client`.
    public var source: String
    /// The event's name.
    public var event: String
    /// Every field of the line.
    public var fields: [String: JSONValue]

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
        self.fields = fields
    }

    /// A string field.
    public func string(_ key: String) -> String? {
        if case .string(let text)? = self.fields[key] { return text }
        return nil
    }

    /// A numeric field.
    public func number(_ key: String) -> Double? {
        if case .number(let value)? = self.fields[key] { return value }
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
