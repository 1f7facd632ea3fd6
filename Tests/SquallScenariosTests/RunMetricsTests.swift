import SquallFaults
import SquallScenarios
import Testing

/// Metrics computed from hand-made event logs with known answers.
@Suite struct RunMetricsTests {
    private static let header =
        #"{"time":1000,"source":"run","event":"scenario","name":"m","seed":1,"timeScale":0.5,"version":"t","scenarioDigest":"x","planDigest":"y","scenario":{"name":"m","duration":"10s","timeScale":0.5,"clients":[{"count":2}],"gates":{"duplicate_messages":["count==0"],"lost_messages":["count==0"],"fallback_rate":["rate<0.5"],"update_latency_ms":["p(50)<=20"]}}}"#

    private static func lines(_ body: [String]) -> [String] {
        [header] + body + [
            #"{"time":9000,"source":"run","event":"run_ended","reason":"duration reached","interrupted":false}"#
        ]
    }

    private static let log = lines([
        #"{"time":1001,"source":"run","event":"client_started","client":"a","group":"g","strategy":"resilient","jobId":"j1"}"#,
        #"{"time":1002,"source":"run","event":"client_started","client":"b","group":"g","strategy":"broken-no-dedup","jobId":"j2"}"#,
        #"{"time":1010,"source":"server","event":"published","jobId":"j1","seq":1,"type":"progress"}"#,
        #"{"time":1010,"source":"server","event":"published","jobId":"j2","seq":1,"type":"progress"}"#,
        #"{"time":1020,"source":"server","event":"published","jobId":"j1","seq":2,"type":"complete"}"#,
        #"{"time":1020,"source":"server","event":"published","jobId":"j2","seq":2,"type":"complete"}"#,
        #"{"time":1015,"source":"client","client":"a","event":"delivered","jobId":"j1","seq":1,"via":"websocket","latencyMs":5}"#,
        #"{"time":1030,"source":"client","client":"a","event":"delivered","jobId":"j1","seq":2,"via":"websocket","latencyMs":10}"#,
        #"{"time":1031,"source":"client","client":"a","event":"finished","jobId":"j1","outcome":"completed"}"#,
        #"{"time":1012,"source":"client","client":"b","event":"fallback","jobId":"j2","reason":"x"}"#,
        #"{"time":1014,"source":"client","client":"b","event":"delivered","jobId":"j2","seq":1,"via":"polling","latencyMs":4}"#,
        #"{"time":1016,"source":"client","client":"b","event":"delivered","jobId":"j2","seq":1,"via":"polling","latencyMs":6}"#,
        #"{"time":1018,"source":"client","client":"b","event":"delivered","jobId":"j2","seq":7,"via":"polling","latencyMs":6}"#,
        #"{"time":1040,"source":"client","client":"b","event":"finished","jobId":"j2","outcome":"completed"}"#,
    ])

    @Test func computesTheTotalQueueCheckersAndRates() throws {
        let record = try RunRecord(
            lines: Self.log.sorted { $0.contains("\"time\":1000,") && !$1.contains("\"time\":1000,") }
        )
        let metrics = record.metrics
        #expect(metrics.value(.duplicateMessages, .count) == 1, "b delivered seq 1 twice")
        #expect(metrics.value(.lostMessages, .count) == 1, "b never delivered seq 2")
        #expect(metrics.value(.unexpectedMessages, .count) == 1, "seq 7 was never published")
        #expect(metrics.value(.fallbackRate, .rate) == 0.5)
        #expect(metrics.value(.fallbackRate, .rate, tags: ["strategy": "resilient"]) == 0)
        #expect(metrics.value(.completionRate, .rate) == 1)
        // Latency from the server's publication event, converted to scenario time (÷ timeScale 0.5).
        #expect(metrics.samples(.updateLatency, tags: ["client": "a"]) == [10, 20])
        #expect(metrics.samples(.updateLatency, tags: ["client": "b"]) == [8])
        #expect(metrics.value(.updateLatency, .median) == 10)
        let verdicts = Dictionary(
            uniqueKeysWithValues: record.gates.map { ("\($0.gate.key) \($0.gate.expression)", $0.passed) }
        )
        #expect(verdicts["duplicate_messages count==0"] == false)
        #expect(verdicts["lost_messages count==0"] == false)
        #expect(verdicts["fallback_rate rate<0.5"] == false, "0.5 is not below 0.5")
        #expect(verdicts["update_latency_ms p(50)<=20"] == true)
        #expect(verdicts["faults_not_injected count==0"] == true)
        #expect(!record.passed)
    }

    /// Two clients on event streams, each losing its stream once: `a` resumes with `Last-Event-ID` 2 after
    /// delivering 1 and 2; `b` asks for everything again (no `Last-Event-ID`) and is sent 1 and 2 a second time.
    private static let eventStreamLog = lines([
        #"{"time":1000,"source":"run","event":"client_started","client":"a","group":"g","strategy":"resilient-sse","jobId":"j1"}"#,
        #"{"time":1000,"source":"run","event":"client_started","client":"b","group":"g","strategy":"broken-sse-no-last-event-id","jobId":"j2"}"#,
        #"{"time":1001,"source":"server","event":"sse_opened","jobId":"j1","lastSeq":0}"#,
        #"{"time":1001,"source":"server","event":"sse_opened","jobId":"j2","lastSeq":0}"#,
        #"{"time":1002,"source":"client","client":"a","event":"connected","jobId":"j1","attempt":0,"probe":false,"via":"sse"}"#,
        #"{"time":1002,"source":"client","client":"b","event":"connected","jobId":"j2","attempt":0,"probe":false,"via":"sse"}"#,
        #"{"time":1010,"source":"server","event":"published","jobId":"j1","seq":1,"type":"progress"}"#,
        #"{"time":1010,"source":"server","event":"published","jobId":"j2","seq":1,"type":"progress"}"#,
        #"{"time":1011,"source":"client","client":"a","event":"delivered","jobId":"j1","seq":1,"via":"sse","latencyMs":1}"#,
        #"{"time":1011,"source":"client","client":"b","event":"delivered","jobId":"j2","seq":1,"via":"sse","latencyMs":1}"#,
        #"{"time":1020,"source":"server","event":"published","jobId":"j1","seq":2,"type":"progress"}"#,
        #"{"time":1020,"source":"server","event":"published","jobId":"j2","seq":2,"type":"progress"}"#,
        #"{"time":1021,"source":"client","client":"a","event":"delivered","jobId":"j1","seq":2,"via":"sse","latencyMs":1}"#,
        #"{"time":1021,"source":"client","client":"b","event":"delivered","jobId":"j2","seq":2,"via":"sse","latencyMs":1}"#,
        #"{"time":1030,"source":"client","client":"a","event":"closed","jobId":"j1","code":null,"reason":"connection lost"}"#,
        #"{"time":1030,"source":"client","client":"b","event":"closed","jobId":"j2","code":null,"reason":"connection lost"}"#,
        #"{"time":1040,"source":"server","event":"published","jobId":"j1","seq":3,"type":"complete"}"#,
        #"{"time":1040,"source":"server","event":"published","jobId":"j2","seq":3,"type":"complete"}"#,
        #"{"time":1050,"source":"server","event":"sse_opened","jobId":"j1","lastSeq":2,"lastEventId":"2"}"#,
        #"{"time":1050,"source":"server","event":"sse_opened","jobId":"j2","lastSeq":0}"#,
        #"{"time":1051,"source":"client","client":"a","event":"connected","jobId":"j1","attempt":1,"probe":false,"via":"sse"}"#,
        #"{"time":1051,"source":"client","client":"b","event":"connected","jobId":"j2","attempt":1,"probe":false,"via":"sse"}"#,
        #"{"time":1052,"source":"client","client":"a","event":"delivered","jobId":"j1","seq":3,"via":"sse","latencyMs":12}"#,
        #"{"time":1052,"source":"client","client":"b","event":"delivered","jobId":"j2","seq":1,"via":"sse","latencyMs":42}"#,
        #"{"time":1052,"source":"client","client":"b","event":"delivered","jobId":"j2","seq":2,"via":"sse","latencyMs":32}"#,
        #"{"time":1070,"source":"client","client":"b","event":"delivered","jobId":"j2","seq":3,"via":"sse","latencyMs":30}"#,
    ])

    @Test func resumesAreJudgedByWhatTheReopenedStreamAskedForAndSentAgain() throws {
        let metrics = try RunRecord(lines: Self.eventStreamLog).metrics
        #expect(metrics.hasEventStreams)
        // The first openings are no resumes (nothing delivered yet); a's reopening asked for exactly 2, b's for 0.
        #expect(metrics.value(.resumeSuccessRate, .rate) == 0.5)
        #expect(metrics.value(.resumeSuccessRate, .rate, tags: ["client": "a"]) == 1)
        #expect(metrics.value(.replayedEvents, .count, tags: ["client": "a"]) == 0)
        #expect(metrics.value(.replayedEvents, .count, tags: ["client": "b"]) == 2, "1 and 2 sent again")
        // Loss → the first new message over an event stream, scenario ms (timeScale 0.5): a 22 ms → 44, b 40 → 80
        // (its replayed 1 and 2 are not new).
        #expect(metrics.samples(.timeToResume, tags: ["client": "a"]) == [44])
        #expect(metrics.samples(.timeToResume, tags: ["client": "b"]) == [80])
        #expect(metrics.value(.duplicateMessages, .count) == 2)
        #expect(metrics.reported.contains(.resumeSuccessRate))
    }

    @Test func theTransportTagSelectsTheClientsThatUsedIt() throws {
        let metrics = try RunRecord(lines: Self.eventStreamLog).metrics
        #expect(metrics.value(.completionRate, .rate, tags: ["transport": "sse"]) != nil)
        #expect(metrics.clients(matching: ["transport": "sse"]).count == 2)
        #expect(metrics.clients(matching: ["transport": "websocket"]).isEmpty)
        #expect(try RunRecord(lines: Self.log).metrics.clients(matching: ["transport": "sse"]).isEmpty)
        let gate = try Gate(key: "duplicate_messages{transport:sse}", expression: "count==0", path: "gates")
        #expect(gate.tags == ["transport": "sse"])
        #expect(throws: FaultError.self) {
            try Gate(key: "duplicate_messages{transport:carrier-pigeon}", expression: "count==0", path: "gates")
        }
    }

    @Test func anotherJobsMessageIsUnexpectedNeverADuplicate() throws {
        // A resumed stream replaying another session's events (a shared MCP event store): job j2's seq 1 reaches a,
        // which already has its own seq 1.
        let metrics = try RunRecord(
            lines: Self.lines([
                #"{"time":1000,"source":"run","event":"client_started","client":"a","group":"g","strategy":"s","jobId":"j1"}"#,
                #"{"time":1010,"source":"server","event":"published","jobId":"j1","seq":1,"type":"complete"}"#,
                #"{"time":1011,"source":"client","client":"a","event":"delivered","jobId":"j1","seq":1,"via":"sse","latencyMs":1}"#,
                #"{"time":1012,"source":"client","client":"a","event":"delivered","jobId":"j2","seq":1,"via":"sse","latencyMs":1}"#,
            ])
        ).metrics
        #expect(metrics.value(.unexpectedMessages, .count) == 1)
        #expect(metrics.value(.duplicateMessages, .count) == 0)
        #expect(metrics.samples(.updateLatency).count == 1, "only its own job's message is timed")
    }

    @Test func aRunWithoutEventStreamsDoesNotListTheirMetrics() throws {
        let metrics = try RunRecord(lines: Self.log).metrics
        #expect(!metrics.hasEventStreams)
        #expect(!metrics.reported.contains(.timeToResume))
        #expect(metrics.reported.count == Metric.allCases.count - 3)
    }

    @Test func timeToFallbackCountsFromTheStartOrFromTheLossOfAnOpenWebSocket() throws {
        let record = try RunRecord(
            lines: Self.lines([
                #"{"time":1000,"source":"run","event":"client_started","client":"a","group":"g","strategy":"s","jobId":"j1"}"#,
                #"{"time":1000,"source":"run","event":"client_started","client":"b","group":"g","strategy":"s","jobId":"j2"}"#,
                #"{"time":1010,"source":"client","client":"a","event":"connect_failed","jobId":"j1","reason":"x"}"#,
                #"{"time":1011,"source":"client","client":"a","event":"fallback","jobId":"j1","reason":"x"}"#,
                #"{"time":1020,"source":"client","client":"a","event":"poll","jobId":"j1","since":0}"#,
                #"{"time":1040,"source":"client","client":"a","event":"poll","jobId":"j1","since":0}"#,
                #"{"time":1050,"source":"client","client":"a","event":"connect_failed","jobId":"j1","reason":"probe"}"#,
                #"{"time":1100,"source":"client","client":"a","event":"connected","jobId":"j1","attempt":0,"probe":true}"#,
                #"{"time":1200,"source":"client","client":"a","event":"closed","jobId":"j1","code":1006,"reason":"lost"}"#,
                #"{"time":1300,"source":"client","client":"a","event":"poll","jobId":"j1","since":0}"#,
                #"{"time":1010,"source":"client","client":"b","event":"connect_failed","jobId":"j2","reason":"x"}"#,
            ])
        )
        // Scenario milliseconds (timeScale 0.5): a fell back 20 ms after its start (WebSocket never opened), then
        // 100 ms after losing the WebSocket it had reopened; b never polled, so it has no sample.
        #expect(record.metrics.samples(.timeToFallback, tags: ["client": "a"]) == [40, 200])
        #expect(record.metrics.samples(.timeToFallback, tags: ["client": "b"]).isEmpty)
        #expect(record.metrics.value(.timeToFallback, .count) == 2)
    }

    @Test func whatHappensAtAnInstantCountsBeforeTheEventsLoggedAtItAndAnySequenceNumberIsKept() throws {
        let record = try RunRecord(
            lines: Self.lines([
                #"{"time":1000,"source":"run","event":"client_started","client":"a","group":"g","strategy":"s","jobId":"j1"}"#,
                #"{"time":1000,"source":"run","event":"client_started","client":"b","group":"g","strategy":"s","jobId":"j2"}"#,
                #"{"time":1005,"source":"run","event":"fault_applied","name":"cut","type":"latency"}"#,
                #"{"time":1010,"source":"client","client":"a","event":"poll","jobId":"j1","since":0}"#,
                #"{"time":1010,"source":"client","client":"b","event":"poll","jobId":"j2","since":0}"#,
                #"{"time":1011,"source":"server","event":"published","jobId":"j1","seq":1,"type":"progress"}"#,
                #"{"time":1012,"source":"server","event":"published","jobId":"j1","seq":70000,"type":"progress"}"#,
                #"{"time":1020,"source":"client","client":"a","event":"delivered","jobId":"j1","seq":70000,"via":"polling","latencyMs":8}"#,
                #"{"time":1021,"source":"client","client":"a","event":"delivered","jobId":"j1","seq":70000,"via":"polling","latencyMs":9}"#,
                #"{"time":1022,"source":"client","client":"b","event":"delivered","jobId":"j2","seq":100000,"via":"polling","latencyMs":1}"#,
                // a's connection and the lift share one instant, the lift logged after: the lift still finds a polling.
                #"{"time":1050,"source":"client","client":"a","event":"connected","jobId":"j1","attempt":1}"#,
                #"{"time":1050,"source":"run","event":"fault_lifted","name":"cut","connectionsHit":1,"healing":false}"#,
                #"{"time":1060,"source":"client","client":"b","event":"connected","jobId":"j2","attempt":1}"#,
                #"{"time":1100,"source":"client","client":"a","event":"finished","jobId":"j1","outcome":"completed"}"#,
                #"{"time":1100,"source":"client","client":"b","event":"finished","jobId":"j2","outcome":"completed"}"#,
            ])
        )
        let metrics = record.metrics
        // Scenario milliseconds (timeScale 0.5): a polling at the lift, on WebSocket the same instant; b 10 ms later.
        #expect(metrics.samples(.timeOnPollingAfterRecovery, tags: ["client": "a"]) == [0])
        #expect(metrics.samples(.timeOnPollingAfterRecovery, tags: ["client": "b"]) == [20])
        #expect(metrics.value(.duplicateMessages, .count) == 1, "a received seq 70000 twice")
        #expect(metrics.value(.lostMessages, .count) == 1, "a never received seq 1")
        #expect(metrics.value(.unexpectedMessages, .count) == 1, "job j2 never published seq 100000")
    }

    @Test func peakRatesFindTheBusiestSecondAndFailAGate() throws {
        let header =
            #"{"time":1000,"source":"run","event":"scenario","name":"m","seed":1,"timeScale":0.5,"version":"t","scenarioDigest":"x","planDigest":"y","scenario":{"name":"m","duration":"10s","timeScale":0.5,"clients":[{"count":3}],"gates":{"server_connect_rate_peak":["count<3"],"polling_rate_peak":["count<3"]}}}"#
        var lines = [header]
        for client in ["a", "b", "c"] {
            lines.append(
                #"{"time":1000,"source":"run","event":"client_started","client":"\#(client)","group":"g","strategy":"s","jobId":"j"}"#
            )
        }
        // Every client receives a message: a gate needs evidence to pass.
        lines.append(#"{"time":1005,"source":"server","event":"published","jobId":"j","seq":1,"type":"progress"}"#)
        for client in ["a", "b", "c"] {
            lines.append(
                #"{"time":1006,"source":"client","client":"\#(client)","event":"delivered","jobId":"j","seq":1,"via":"websocket"}"#
            )
        }
        // Real milliseconds since the start at timeScale 0.5: 100 → scenario 200 ms (second 0); 1 600, 1 700, 1 900
        // → 3 200, 3 400, 3 800 ms (second 3, the busiest, three attempts); 2 100 → 4 200 ms (second 4).
        for (offset, client) in [(100, "a"), (1_600, "a"), (1_700, "b"), (1_900, "c"), (2_100, "a")] {
            lines.append(
                #"{"time":\#(1_000 + offset),"source":"client","client":"\#(client)","event":"connect_attempt","jobId":"j","attempt":1,"probe":false}"#
            )
        }
        for offset in [200, 900] {
            lines.append(
                #"{"time":\#(1_000 + offset),"source":"client","client":"b","event":"poll","jobId":"j","since":0}"#
            )
        }
        lines.append(
            #"{"time":9000,"source":"run","event":"run_ended","reason":"duration reached","interrupted":false}"#
        )
        let record = try RunRecord(lines: lines)
        #expect(record.metrics.value(.connectRatePeak, .count) == 3)
        #expect(record.metrics.peak(.connectRatePeak)?.at == 3_000)
        #expect(record.metrics.value(.connectRatePeak, .count, tags: ["client": "a"]) == 1)
        #expect(record.metrics.value(.pollingRatePeak, .count) == 1, "400 and 1 800 ms fall in different seconds")
        let verdicts = Dictionary(uniqueKeysWithValues: record.gates.map { ($0.gate.key, $0.passed) })
        #expect(verdicts["server_connect_rate_peak"] == false, "3 in one second is not below 3")
        #expect(verdicts["polling_rate_peak"] == true)
    }

    @Test func aFaultThatHitNothingFailsTheRun() throws {
        let record = try RunRecord(
            lines: Self.lines([
                #"{"time":1001,"source":"run","event":"fault_applied","name":"slow","type":"latency"}"#,
                #"{"time":1500,"source":"run","event":"fault_lifted","name":"slow","connectionsHit":0}"#,
            ])
        )
        #expect(record.metrics.faultsNotInjected == ["slow"])
        #expect(record.gates.first { $0.gate.metric == .faultsNotInjected }?.passed == false)
    }

    @Test func aLogWithoutItsScenarioIsRefusedNamingTheLine() {
        #expect(throws: FaultError.self) { try RunRecord(lines: ["{\"time\":1,\"event\":\"x\"}"]) }
        let error = #expect(throws: FaultError.self) { try RunRecord(lines: [Self.header, "not json"]) }
        #expect("\(error!)".contains("line 2"))
    }

    @Test func stepExpectationsAreCheckedPerTargetedClient() throws {
        // timeScale 0.5: a real millisecond is two scenario milliseconds. The fault starts at real 1 500 and is lifted
        // at 2 500. a falls back and comes back; b keeps its WebSocket throughout; c falls back and never returns.
        let header =
            #"{"time":1000,"source":"run","event":"scenario","name":"m","seed":1,"timeScale":0.5,"version":"t","scenarioDigest":"x","planDigest":"y","scenario":{"name":"m","duration":"10s","timeScale":0.5,"clients":[{"name":"g","count":3}],"timeline":[{"at":"1s","for":"2s","fault":{"name":"slow","type":"latency","attributes":{"latency":100}},"expect":{"recoveredWithin":"1s","fellBackWithin":"500ms","noLoss":true}}],"gates":{"step_recovery_ms{step:slow,client:a}":["max<=1000"]}}}"#
        var lines = [header]
        for (client, job) in [("a", "j1"), ("b", "j2"), ("c", "j3")] {
            lines.append(
                #"{"time":1000,"source":"run","event":"client_started","client":"\#(client)","group":"g","strategy":"s","jobId":"\#(job)"}"#
            )
        }
        lines += [
            #"{"time":1100,"source":"client","client":"b","event":"connected","jobId":"j2","attempt":1,"probe":false}"#,
            #"{"time":1500,"source":"run","event":"fault_applied","step":"slow","name":"slow","type":"latency","groups":["g"]}"#,
            #"{"time":1510,"source":"client","client":"a","event":"closed","jobId":"j1","code":1006,"reason":"lost"}"#,
            #"{"time":1550,"source":"client","client":"a","event":"poll","jobId":"j1","since":0}"#,
            #"{"time":1600,"source":"client","client":"c","event":"closed","jobId":"j3","code":1006,"reason":"lost"}"#,
            #"{"time":1800,"source":"client","client":"c","event":"poll","jobId":"j3","since":0}"#,
            #"{"time":2000,"source":"server","event":"published","jobId":"j3","seq":1,"type":"progress"}"#,
            #"{"time":2500,"source":"run","event":"fault_lifted","name":"slow","connectionsHit":3,"healing":false}"#,
            #"{"time":2700,"source":"client","client":"a","event":"connected","jobId":"j1","attempt":1,"probe":true}"#,
            #"{"time":2800,"source":"server","event":"published","jobId":"j1","seq":1,"type":"progress"}"#,
            #"{"time":2810,"source":"client","client":"a","event":"delivered","jobId":"j1","seq":1,"via":"websocket"}"#,
            #"{"time":3000,"source":"server","event":"published","jobId":"j3","seq":2,"type":"progress"}"#,
            #"{"time":9000,"source":"run","event":"run_ended","reason":"duration reached","interrupted":false}"#,
        ]
        let metrics = try RunRecord(lines: lines).metrics
        #expect(metrics.samples(.stepRecovery, tags: ["step": "slow", "client": "a"]) == [400])
        #expect(metrics.samples(.stepRecovery, tags: ["step": "slow", "client": "b"]) == [0], "never lost it")
        #expect(metrics.samples(.stepRecovery, tags: ["step": "slow", "client": "c"]) == [.infinity])
        #expect(metrics.samples(.stepFallback, tags: ["step": "slow", "client": "a"]) == [100])
        #expect(metrics.samples(.stepFallback, tags: ["step": "slow", "client": "b"]) == [.infinity])
        #expect(metrics.samples(.stepFallback, tags: ["step": "slow", "client": "c"]) == [600])
        #expect(metrics.value(.lostMessages, .count) == 2)
        #expect(metrics.value(.stepLostMessages, .count, tags: ["step": "slow"]) == 1, "seq 2 came after the lift")
        #expect(metrics.samples(.stepRecovery, tags: ["step": "other"]).isEmpty)
        let record = try RunRecord(lines: lines)
        let verdicts = Dictionary(
            uniqueKeysWithValues: record.gates.map { ("\($0.gate.key) \($0.gate.expression)", $0) }
        )
        #expect(verdicts["step_recovery_ms{step:slow} max<=1000"]?.passed == false)
        #expect(verdicts["step_recovery_ms{step:slow} max<=1000"]?.summary.contains("observed never") == true)
        #expect(verdicts["step_fallback_ms{step:slow} max<=500"]?.passed == false)
        #expect(verdicts["step_lost_messages{step:slow} count==0"]?.passed == false)
        #expect(verdicts["step_recovery_ms{step:slow,client:a} max<=1000"]?.passed == true)
    }

    @Test func percentilesInterpolateLikeK6() {
        #expect(RunMetrics.aggregate([1, 2, 3, 4], .percentile(50)) == 2.5)
        #expect(RunMetrics.aggregate([10], .percentile(95)) == 10)
        #expect(RunMetrics.aggregate([], .percentile(95)) == nil)
        #expect(RunMetrics.aggregate([], .count) == 0)
        #expect(RunMetrics.aggregate([1, .infinity], .percentile(50)) == .infinity, "not NaN")
        #expect(RunMetrics.aggregate([1, 2, .infinity], .percentile(50)) == 2)
    }
}
