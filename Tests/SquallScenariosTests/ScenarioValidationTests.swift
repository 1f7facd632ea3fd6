import Foundation
import SquallFaults
import SquallReferenceClient
import SquallReferenceServer
import SquallScenarios
import Testing

private let valid = #"{"name": "t", "duration": "10s", "clients": [{"count": 2}]}"#

private func scenario(_ text: String) throws -> Scenario {
    try Scenario(bytes: Array(text.utf8))
}

/// Scenario validation: every error names the JSON path, what was expected and what was found.
@Suite struct ScenarioValidationTests {
    @Test func aStrategysLadderIsReadFromTransports() throws {
        let text =
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1, "strategy": "resilient", "overrides": {"transports": ["sse", "polling"]}}, {"count": 1, "strategy": "resilient-sse"}]}"#
        let parsed = try scenario(text)
        #expect(parsed.clients.map(\.strategy.transports) == [[.sse, .polling], [.websocket, .sse, .polling]])
        #expect(try scenario(valid).clients.first?.strategy.transports == [.websocket, .polling])
    }

    @Test func aMinimalScenarioIsValidWithDefaults() throws {
        let parsed = try scenario(valid)
        #expect(parsed.seed == 1)
        #expect(parsed.timeScale == 1)
        #expect(parsed.clients.first?.strategy.name == "resilient")
        #expect(parsed.clients.first?.name == "resilient")
        #expect(parsed.gates.isEmpty)
    }

    @Test(arguments: [
        (#"{"name": "t", "duration": "10s", "clients": [{"count": 2}], "colour": 1}"#, "colour", "unknown key"),
        (#"{"name": "t", "duration": 10, "clients": [{"count": 2}]}"#, "duration", "a duration"),
        (#"{"name": "t", "duration": "ten", "clients": [{"count": 2}]}"#, "duration", "a duration"),
        (#"{"name": "t", "duration": "10s"}"#, "clients", "missing"),
        (#"{"name": "t", "duration": "10s", "clients": [{"count": "2"}]}"#, "clients[0].count", "an integer"),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2, "strategy": "optimistic"}]}"#,
            "clients[0].strategy", "a strategy preset"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2, "overrides": {"reconnectAttempts": -1}}]}"#,
            "clients[0].overrides.reconnectAttempts", "an integer"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2}], "timeline": [{"at": "1s", "fault": {"type": "latency", "attributes": {"latency": -5}}}]}"#,
            "timeline[0].fault.attributes.latency", "found number -5"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2}], "timeline": [{"at": "1s"}, {"at": "2s", "fault": {"type": "lag"}}]}"#,
            "timeline[0]", "exactly one of"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2}], "timeline": [{"at": "1s", "fault": {"type": "lag"}}]}"#,
            "timeline[0].fault", "lag"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2}], "timeline": [{"at": "20s", "handoff": {}}]}"#,
            "timeline[0].at", "within the scenario's duration"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2}], "timeline": [{"at": "1s", "handoff": {}, "target": {"group": "nobody"}}]}"#,
            "timeline[0].target.group", "a client group"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2}], "gates": {"fallback_rate": ["rate<<0.05"]}}"#,
            #"gates["fallback_rate"][0]"#, "a number after <"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2}], "gates": {"happiness": ["rate>0.9"]}}"#,
            #"gates["happiness"][0]"#, "a metric"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2}], "gates": {"fallback_rate": ["p(95)<3"]}}"#,
            #"gates["fallback_rate"][0]"#, "rate for the rate metric"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2}], "gates": {"duplicate_messages": "count==0"}}"#,
            #"gates["duplicate_messages"]"#, "an array"
        ),
        (#"{"name": "t", "duration": "10s", "clients": [{"count": 2}], "network": "5g-dream"}"#, "network", "5g-dream"),
        (
            #"{"name": "t", "duration": "10s", "server": {"url": "http://127.0.0.1:9"}, "clients": [{"count": 2}], "timeline": [{"at": "1s", "action": "server_restart"}]}"#,
            "timeline[0].action", "reference server only"
        ),
        (
            #"{"name": "t", "duration": "10s", "server": {"url": "https://example.com"}, "clients": [{"count": 2}]}"#,
            "server.url", "http://host:port"
        ),
        (
            #"{"name": "t", "duration": "10s", "server": {"url": "http://127.0.0.1:{port}"}, "clients": [{"count": 2}]}"#,
            "server.url", "a fixed port"
        ),
        (
            #"{"name": "t", "duration": "10s", "server": {"command": ["./srv"]}, "clients": [{"count": 2}]}"#, "server",
            "url"
        ),
        (
            #"{"name": "t", "duration": "10s", "server": {"url": "http://127.0.0.1:9", "pingInterval": "1s"}, "clients": [{"count": 2}]}"#,
            "server.pingInterval", "reference server"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2, "command": []}]}"#, "clients[0].command",
            "a non-empty array"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2, "overrides": {"transports": []}}]}"#,
            "clients[0].overrides.transports", "a non-empty list"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2, "overrides": {"transports": ["sse", "carrier-pigeon"]}}]}"#,
            "clients[0].overrides.transports[1]", "one of \"websocket\", \"sse\", \"polling\""
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2, "overrides": {"transports": ["sse", "sse"]}}]}"#,
            "clients[0].overrides.transports[1]", "each transport once"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2, "overrides": {"transports": ["polling", "sse"]}}]}"#,
            "clients[0].overrides.transports[1]", "nothing after \"polling\""
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2, "command": ["python3", 7]}]}"#,
            "clients[0].command[1]", "a string"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2, "command": ["./c"], "strategy": "resilient"}]}"#,
            "clients[0].strategy", "no strategy beside"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2, "command": ["./c"], "env": {"A": 1}}]}"#,
            "clients[0].env.A", "a string"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 2, "env": {"A": "1"}}]}"#, "clients[0].env",
            "beside a \"command\""
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1, "startAt": "12s"}]}"#, "clients[0].startAt",
            "before the scenario's end"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 3, "startAt": "5s", "rampUp": "5s"}]}"#,
            "clients[0].rampUp", "before the scenario's end"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1}], "x": "# + String(repeating: "[", count: 40)
                + String(repeating: "]", count: 40) + "}",
            "x[0]", "nested deeper than 32"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1}], "description": ""#
                + String(repeating: "a", count: 1 << 20)
                + #""}"#, "1048", "at most 1048576"
        ),
        (#"{"name": "t", "duration": "10s", "clients": [{"count": 1,}]}"#, "clients[0]", "trailing comma"),
        (#"{"name": "t", "duration": "10s", "clients": [{"count": 1}],}"#, "the document", "trailing comma"),
        (#"{"name": "t", "duration": "10s", "clients": [{"count": 1}, ]}"#, "clients", "trailing comma"),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1}], "timeline": [{"at": "1s", "fault": {"type": "noop", "Type": "latency"}}]}"#,
            "timeline[0].fault", "\"Type\" appears twice"
        ),
        (#"{"name": "t", "name": "u", "duration": "10s", "clients": [{"count": 1}]}"#, "the document", "appears twice"),
        (
            #"{"name": "t", "duration": "10s", "server": {"job": {"failAfterItems": 2.5}}, "clients": [{"count": 1}]}"#,
            "server.job.failAfterItems", "a whole number"
        ),
        (#"{"name": "t", "seed": 1.5, "duration": "10s", "clients": [{"count": 1}]}"#, "seed", "a whole number"),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"name": "ext", "count": 2, "command": ["/bin/true"]}], "timeline": [{"at": "1s", "fault": {"type": "refuse"}, "target": {"clients": 0.5}}]}"#,
            "timeline[0].target.clients", "external clients"
        ),
        (
            #"{"name": "t", "duration": "10s", "timeScale": 100, "clients": [{"count": 1}], "timeline": [{"at": "0s", "fault": {"type": "latency", "attributes": {"latency": "20h"}}}]}"#,
            "timeline[0].fault times timeScale 100: attributes.latency", "≥ 0"
        ),
        // What can never work (issue 28): no time to connect or be answered, a cap below the first backoff, a job
        // that ends before it fails, a step that ends after the run.
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1, "overrides": {"connectTimeout": "0s"}}]}"#,
            "clients[0].overrides.connectTimeout", "a duration above 0"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1, "overrides": {"requestTimeout": "0ms"}}]}"#,
            "clients[0].overrides.requestTimeout", "a duration above 0"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1, "overrides": {"initialBackoff": "2s", "maximumBackoff": "1s"}}]}"#,
            "clients[0].overrides.maximumBackoff", "no shorter than initialBackoff"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1, "overrides": {"initialBackoff": "10m"}}]}"#,
            "clients[0].overrides.initialBackoff", "no shorter than initialBackoff"
        ),
        (
            #"{"name": "t", "duration": "10s", "server": {"job": {"totalItems": 5, "failAfterItems": 6}}, "clients": [{"count": 1}]}"#,
            "server.job.failAfterItems", "at most the job's totalItems (5)"
        ),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1}], "timeline": [{"at": "8s", "for": "5s", "fault": {"type": "latency"}}]}"#,
            "timeline[0].for", "at most 2s from 8s"
        ),
    ])
    func invalidScenariosNameTheirPath(text: String, path: String, expected: String) throws {
        let error = try #require(throws: FaultError.self) { try scenario(text) }
        let message = "\(error)"
        #expect(message.contains(path), "\(message)")
        #expect(message.contains(expected), "\(message)")
    }

    @Test func theEdgesOfWhatCanWorkAreAccepted() throws {
        // A step that ends exactly at the end, a job failing at its last item, equal backoffs.
        let parsed = try scenario(
            #"{"name": "t", "duration": "10s", "server": {"job": {"totalItems": 5, "failAfterItems": 5}}, "clients": [{"count": 1, "overrides": {"initialBackoff": "1s", "maximumBackoff": "1s"}}], "timeline": [{"at": "8s", "for": "2s", "fault": {"type": "latency"}}]}"#
        )
        #expect(parsed.timeline.count == 1)
        #expect(parsed.clients.first?.strategy.maximumBackoff == .seconds(1))
    }

    @Test func everyMistakeIsListedNotOnlyTheFirst() throws {
        let text = #"""
            {"name": "t", "duration": "10s", "seed": -1, "clients": [{"count": 0}],
             "timeline": [{"at": "1s", "fault": {"type": "latency", "attributes": {"latency": -5}}}],
             "gates": {"fallback_rate": ["rate<"]}, "colour": "blue"}
            """#
        let error = try #require(throws: FaultError.self) { try scenario(text) }
        guard case .several(let errors, let total) = error else {
            Issue.record("one error only: \(error)")
            return
        }
        #expect(total == 5)
        #expect(errors.count == 5)
        let message = "\(error)"
        for path in ["seed", "clients[0].count", "timeline[0].fault.attributes.latency", "gates[", "colour"] {
            #expect(message.contains(path), "\(path) in: \(message)")
        }
    }

    @Test func everyMistakeInsideAGroupAFaultAndAStepIsListed() throws {
        let text = #"""
            {"name": "t", "duration": "10s",
             "clients": [{"count": 0, "strategy": "resilient", "rampUp": "soon", "name": "a b",
                          "overrides": {"pollInterval": "0s", "backoffJitter": 2, "colour": 1}}],
             "timeline": [{"at": "20s", "target": {"clients": 3},
                           "fault": {"type": "latency", "stream": "sideways", "toxicity": 7,
                                     "attributes": {"latency": -5, "jitter": -1, "size": 3}}}]}
            """#
        let error = try #require(throws: FaultError.self) { try scenario(text) }
        let message = "\(error)"
        for path in [
            "clients[0].count", "clients[0].rampUp", "clients[0].name", "clients[0].overrides.pollInterval",
            "clients[0].overrides.backoffJitter", "clients[0].overrides: unknown key \"colour\"", "timeline[0].at",
            "timeline[0].target.clients", "timeline[0].fault.stream", "timeline[0].fault.toxicity",
            "timeline[0].fault.attributes.latency", "timeline[0].fault.attributes.jitter",
            "timeline[0].fault.attributes.size",
        ] {
            #expect(message.contains(path), "\(path) in: \(message)")
        }
        guard case .several(_, let total) = error else {
            Issue.record("one error only: \(error)")
            return
        }
        #expect(total == 13, "\(message)")
    }

    @Test func aLongListOfMistakesIsCappedAndCounted() throws {
        let entries = (0..<30).map { _ in #"{"at": "1s", "fault": {"type": "nonsense"}}"# }
        let text =
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1}], "timeline": ["#
            + entries.joined(separator: ",") + "]}"
        let error = try #require(throws: FaultError.self) { try scenario(text) }
        guard case .several(let errors, let total) = error else {
            Issue.record("one error only: \(error)")
            return
        }
        #expect(total == 30)
        #expect(errors.count == Scenario.maximumErrors)
        #expect("\(error)".contains("and 10 more"))
    }

    @Test func anIdleTimeoutPresetIsPlayedLikeAnyDuration() throws {
        let parsed = try scenario(
            #"{"name": "t", "timeScale": 0.1, "duration": "10s", "clients": [{"count": 1}], "timeline": [{"at": "1s", "fault": {"type": "idle_timeout", "attributes": {"preset": "cloudflare"}}}]}"#
        )
        let plan = try PlannedTimeline(parsed)
        let conductor = TimelineConductor(clock: ScenarioClock(parsed), groups: ["default"])
        guard let step = plan.steps.first, case .addFault(let fault, _) = try conductor.operation(for: step) else {
            Issue.record("no fault in \(plan.canonicalText)")
            return
        }
        #expect(fault.attributes["timeout"] == 10_000, "Cloudflare's 100 s at timeScale 0.1")
    }

    @Test func thePlanIsInScenarioTimeAndARunPlaysItAtItsScale() throws {
        let text = #"""
            {"name": "scaled", "timeScale": 0.5, "duration": "10s", "clients": [{"count": 1}],
             "timeline": [{"at": "2s", "fault": {"type": "latency", "attributes": {"latency": 300, "jitter": 40}}},
                          {"at": "4s", "for": "2s", "profile": "nlc-3g"}]}
            """#
        let parsed = try scenario(text)
        let plan = try PlannedTimeline(parsed)
        var unscaled = parsed
        unscaled.timeScale = 1
        #expect(try PlannedTimeline(unscaled).digest == plan.digest, "one plan whatever the scale")
        guard case .applyFault(let planned)? = plan.steps.first?.kind else {
            Issue.record("no fault step in \(plan.canonicalText)")
            return
        }
        #expect(planned.attributes["latency"] == 300, "the plan holds the scenario's fault")
        let conductor = TimelineConductor(clock: ScenarioClock(parsed), groups: ["default"])
        guard let first = plan.steps.first, case .addFault(let fault, _) = try conductor.operation(for: first) else {
            Issue.record("no fault operation")
            return
        }
        #expect(fault.attributes["latency"] == 150)
        #expect(fault.attributes["jitter"] == 20)
        #expect(conductor.due(first) == .seconds(1), "due at 2 s of scenario time, played at 0.5")
        let profiles = try plan.steps.compactMap { step -> NetworkProfile?? in
            if case .setProfile(let profile, _) = try conductor.operation(for: step) { profile } else { nil }
        }
        let threeG = try NetworkProfile.parse("nlc-3g", path: "")
        #expect(profiles.first??.downstream.latency == threeG.downstream.latency * 0.5)
        // The server's keep-alive timings play at the same scale, an event stream's `retry:` among them.
        let server = ScenarioClock(parsed).played(ReferenceServerConfiguration())
        #expect(server.pingInterval == .seconds(5))
        #expect(server.eventStreamRetry == .milliseconds(500))
        var changed = parsed
        changed.timeScale = 1e9
        #expect(throws: FaultError.self, "a scenario changed in code is still checked when planned") {
            try PlannedTimeline(changed)
        }
    }

    @Test func theSamePlanForTheSameSeedAndADifferentOneOtherwise() throws {
        let text = #"""
            {"name": "plan", "seed": 9, "duration": "60s", "clients": [{"count": 30, "rampUp": "3s"}],
             "timeline": [{"at": "5s", "for": "2s", "every": "20s", "fault": {"type": "latency", "attributes": {"latency": 100}}},
                          {"at": "7s", "for": "10s", "action": "suspend", "target": {"clients": 0.3}}]}
            """#
        let first = try PlannedTimeline(try scenario(text))
        let again = try PlannedTimeline(try scenario(text))
        #expect(first.canonicalText == again.canonicalText, "byte-identical")
        #expect(first.digest == again.digest)
        let other = try PlannedTimeline(
            try scenario(text.replacingOccurrences(of: "\"seed\": 9", with: "\"seed\": 10"))
        )
        #expect(other.digest != first.digest, "another seed picks other clients and other jitter seeds")
        let applies = first.steps.filter { if case .applyFault = $0.kind { true } else { false } }
        #expect(applies.map(\.at) == [.seconds(5), .seconds(25), .seconds(45)], "every 20 s within the duration")
        let lifts = first.steps.filter { if case .liftFault = $0.kind { true } else { false } }
        #expect(lifts.map(\.at) == [.seconds(7), .seconds(27), .seconds(47)])
        guard
            case .suspend(let clients, let lasting)? = first.steps.first(where: {
                if case .suspend = $0.kind { true } else { false }
            })?.kind
        else {
            Issue.record("no suspend step")
            return
        }
        #expect(clients.count == 9, "30 % of 30 clients")
        #expect(lasting == .seconds(10))
    }

    @Test(arguments: [
        (#"{"name": "..", "duration": "10s", "clients": [{"count": 1}]}"#, "name"),
        (#"{"name": ".", "duration": "10s", "clients": [{"count": 1}]}"#, "name"),
        (#"{"name": "\#(String(repeating: "a", count: 101))", "duration": "10s", "clients": [{"count": 1}]}"#, "name"),
        (
            #"{"name": "t", "duration": "10s", "clients": [{"count": 1, "name": "\#(String(repeating: "g", count: 101))"}]}"#,
            "clients[0].name"
        ),
    ])
    func namesThatWouldEscapeOrBreakTheReportFolderAreRefused(text: String, path: String) {
        let error = #expect(throws: FaultError.self) { try scenario(text) }
        #expect("\(error!)".hasPrefix(path + ":"), "\(error!)")
    }

    @Test func aTinyRepeatPeriodIsRefusedBeforeAnythingIsPlanned() {
        let started = ContinuousClock.now
        let error = #expect(throws: FaultError.self) {
            try scenario(
                #"{"name":"a","duration":"10s","clients":[{"count":1}],"timeline":[{"at":"0s","every":"1ns","fault":{"type":"noop"}}]}"#
            )
        }
        #expect("\(error!)".hasPrefix("timeline[0].every:"), "\(error!)")
        #expect("\(error!)".contains("at most 10000 times"), "\(error!)")
        #expect(ContinuousClock.now - started < .seconds(5), "refused at once, not after planning billions of steps")
        // The cap itself still plans: 10 s every 1 ms is 10 000 repetitions, refused; every 2 ms is 5 000, accepted.
        #expect(throws: FaultError.self) {
            try scenario(
                #"{"name":"a","duration":"10s","clients":[{"count":1}],"timeline":[{"at":"0s","every":"1ms","fault":{"type":"noop"}}]}"#
            )
        }
        #expect(throws: Never.self) {
            try scenario(
                #"{"name":"a","duration":"10s","clients":[{"count":1}],"timeline":[{"at":"0s","every":"2ms","fault":{"type":"noop"}}]}"#
            )
        }
    }
}
