import SquallFaults
import Testing

@Suite struct FaultValidationTests {
    /// Each bad fault is refused with a message naming the path, what was expected and what was found.
    @Test(arguments: [
        (#"{"type":"latency","attributes":{"latency":-5}}"#, "attributes.latency: expected a duration ≥ 0 ms"),
        (#"{"type":"bandwidth","attributes":{"rate":-1}}"#, "attributes.rate: expected a rate in KB/s ≥ 0"),
        (
            #"{"type":"slicer","attributes":{"average_size":0}}"#,
            "attributes.average_size: expected a whole number of bytes ≥ 1"
        ),
        (
            #"{"type":"slicer","attributes":{"average_size":10,"size_variation":10}}"#,
            "size_variation: expected a whole number of bytes below average_size"
        ),
        (#"{"type":"latency","toxicity":1.5}"#, "toxicity: expected a probability in 0...1, found number 1.5"),
        (#"{"type":"latency","toxicity":-0.1}"#, "toxicity: expected a probability in 0...1"),
        (#"{"type":"teleport"}"#, "type: unknown fault type \"teleport\""),
        (
            #"{"type":"latency","attributes":{"latnecy":5}}"#,
            "attributes.latnecy: expected an attribute of latency (latency, jitter), found unknown attribute"
        ),
        (#"{"type":"latency","attributes":{"latency":"fast"}}"#, "attributes.latency: expected a duration ≥ 0 ms"),
        (#"{"type":"latency","stream":"sideways"}"#, "stream: expected \"upstream\" or \"downstream\""),
        (#"{"type":"limit_data","attributes":{"bytes":1.5}}"#, "attributes.bytes: expected a whole number of bytes"),
        (#"{"type":"latency","colour":"red"}"#, "unknown key \"colour\""),
        (#"{"name":"x"}"#, "missing required field \"type\""),
        (#"{"type":"blackhole","attributes":{"x":1}}"#, "expected no attributes (blackhole takes none)"),
        (#"{"type":"timeout","attributes":{"timeout":1e300}}"#, "attributes.timeout: expected a duration"),
        (#"[1,2]"#, "expected an object"),
    ])
    func badFaultsAreRefusedWithTheirPath(json: String, message: String) throws {
        let value = try JSONValue.parse(Array(json.utf8))
        #expect {
            _ = try Fault(json: value, path: "")
        } throws: { error in
            "\(error)".contains(message)
        }
        // Show the message in the log when the expectation above fails.
        do {
            _ = try Fault(json: value, path: "")
        } catch {
            #expect("\(error)".contains(message), "got: \(error)")
        }
    }

    @Test func toxiproxyShapeIsAcceptedCaseInsensitively() throws {
        let value = try JSONValue.parse(
            Array(#"{"Name":"l","Type":"latency","Stream":"UPSTREAM","Attributes":{"Latency":7}}"#.utf8)
        )
        let fault = try Fault(json: value, path: "")
        #expect(fault.name == "l")
        #expect(fault.direction == .upstream)
        #expect(fault.effect == .latency(delay: .milliseconds(7), jitter: .zero))
    }

    @Test func defaultsFollowToxiproxy() throws {
        let fault = try Fault(
            json: try JSONValue.parse(Array(#"{"type":"slow_close","attributes":null}"#.utf8)),
            path: ""
        )
        #expect(fault.name == "slow_close_downstream")
        #expect(fault.direction == .downstream)
        #expect(fault.toxicity == 1)
        #expect(fault.attributes == ["delay": 0])
    }

    @Test func durationStringsAreAcceptedForTimeAttributes() throws {
        let value = try JSONValue.parse(
            Array(#"{"type":"slicer","attributes":{"average_size":10,"delay":"2ms"}}"#.utf8)
        )
        let fault = try Fault(json: value, path: "")
        #expect(fault.attributes["delay"] == 2000)
        #expect(fault.effect == .slicer(averageSize: 10, sizeVariation: 0, delay: .milliseconds(2)))
    }

    @Test func updatesMergeAttributes() throws {
        let fault = try Fault(type: .latency, attributes: ["latency": 100, "jitter": 10])
        let updated = try fault.updating(attributes: .object(["jitter": .number(30)]), toxicity: 0.5)
        #expect(updated.attributes == ["latency": 100, "jitter": 30])
        #expect(updated.toxicity == 0.5)
        #expect(throws: FaultError.self) {
            try fault.updating(attributes: .object(["latency": .number(-1)]), toxicity: nil)
        }
    }

    @Test func invalidJSONIsExplained() {
        #expect {
            try JSONValue.parse(Array("{\"type\": ".utf8))
        } throws: { error in
            "\(error)".hasPrefix("invalid JSON")
        }
        #expect(throws: FaultError.invalidJSON("the document is empty")) {
            try JSONValue.parse(Array("  ".utf8))
        }
    }
}

@Suite struct DurationParsingTests {
    @Test(arguments: [
        ("250ms", 250_000_000), ("2s", 2_000_000_000), ("1.5s", 1_500_000_000), ("1m", 60_000_000_000),
        ("500us", 500_000), ("0", 0),
    ])
    func parses(text: String, nanoseconds: Int64) {
        #expect(Duration(parsing: text)?.nanosecondCount == nanoseconds)
    }

    @Test(arguments: ["", "5", "-1s", "fast", "1.2.3s", "ms", "1e999s"])
    func refuses(text: String) {
        #expect(Duration(parsing: text) == nil)
    }

    @Test func rendersTheShortestExactUnit() {
        #expect(Duration.milliseconds(250).squallText == "250ms")
        #expect(Duration.seconds(2).squallText == "2s")
        #expect(Duration.microseconds(1500).squallText == "1500us")
    }
}
