import SquallFaults
import SquallScenarios
import Testing

/// `{window:…}` gates judge the worst window of a run, on hand-made logs with known answers.
@Suite struct WindowGateTests {
    /// A 20 s run at timeScale 0.5 (log times 1 000 … 21 000) of client `a`, which receives a message, then makes
    /// `attempts` WebSocket connect attempts: (log time, opened).
    private static func record(gates: String, attempts: [(Int, Bool)], reconnects: [Int] = []) throws -> RunRecord {
        var lines = [
            #"{"time":1000,"source":"run","event":"scenario","name":"w","seed":1,"timeScale":0.5,"version":"t","scenarioDigest":"x","planDigest":"y","scenario":{"name":"w","duration":"40s","timeScale":0.5,"clients":[{"count":1}],"gates":{\#(gates)}}}"#,
            #"{"time":1000,"source":"run","event":"client_started","client":"a","group":"g","strategy":"s","jobId":"j"}"#,
            #"{"time":1005,"source":"server","event":"published","jobId":"j","seq":1,"type":"progress"}"#,
            #"{"time":1006,"source":"client","client":"a","event":"delivered","jobId":"j","seq":1,"via":"polling"}"#,
        ]
        for (time, opened) in attempts {
            lines.append(
                #"{"time":\#(time),"source":"client","client":"a","event":"connect_attempt","jobId":"j","attempt":1,"probe":false}"#
            )
            let answer =
                opened
                ? #"{"time":\#(time + 10),"source":"client","client":"a","event":"connected","jobId":"j","attempt":1,"probe":false}"#
                : #"{"time":\#(time + 10),"source":"client","client":"a","event":"connect_failed","jobId":"j","attempt":1,"reason":"refused"}"#
            lines.append(answer)
        }
        for time in reconnects {
            lines.append(
                #"{"time":\#(time),"source":"client","client":"a","event":"reconnect_attempt","jobId":"j","attempt":2,"delayMs":100}"#
            )
        }
        lines.append(
            #"{"time":21000,"source":"run","event":"run_ended","reason":"duration reached","interrupted":false}"#
        )
        return try RunRecord(lines: lines)
    }

    /// 30 attempts that open, one every 200 ms from log 2 000, then 4 that fail at 18 000 … 18 600.
    private static let attempts: [(Int, Bool)] =
        (0..<30).map { (2_000 + $0 * 200, true) } + (0..<4).map { (18_000 + $0 * 200, false) }

    @Test func aWindowFindsTheFailuresTheWholeRunsRateHides() throws {
        let whole = try Self.record(gates: #""websocket_success_rate":["rate>=0.8"]"#, attempts: Self.attempts)
        #expect(whole.gates[0].observed == 30.0 / 34.0)
        #expect(whole.verdict == .passed)
        // A 4 s scenario window is 2 s of log time at timeScale 0.5: the last four attempts alone.
        let windowed = try Self.record(
            gates: #""websocket_success_rate{window:4s}":["rate>=0.8"]"#,
            attempts: Self.attempts
        )
        let gate = windowed.gates[0]
        #expect(gate.gate.window == .seconds(4))
        #expect(gate.observed == 0)
        let start = try #require(gate.windowStart)
        #expect(start <= 18_000 && start + 2_000 > 18_600, "the window holds all four failures: \(start)")
        #expect(windowed.verdict == .failed)
    }

    @Test func windowsStayInsideTheRun() throws {
        // 30 successes (2 000 … 7 800), then one failure at 20 800, 200 ms before the run's end: a window that holds
        // it ends by the run's end, so it begins by 19 000, and holds no success: 0 of 1.
        let late = Self.attempts.prefix(30) + [(20_800, false)]
        let windowed = try Self.record(
            gates: #""websocket_success_rate{window:4s}":["rate>=0.8"]"#,
            attempts: Array(late)
        )
        let start = try #require(windowed.gates[0].windowStart)
        #expect(start >= 18_800 && start <= 19_000, "a full window, not one running past the end: \(start)")
        #expect(windowed.gates[0].observed == 0)
        // With a window longer than the run, the window is the run.
        let long = try Self.record(gates: #""websocket_success_rate{window:60s}":["rate>=0.8"]"#, attempts: Array(late))
        #expect(long.gates[0].observed == 30.0 / 31.0)
        #expect(long.gates[0].windowStart == 1_000)
    }

    @Test func aCountWindowJudgesTheBusiestStretch() throws {
        // Ten reconnect attempts, one a second, then four within 300 ms.
        let spread = (0..<10).map { 2_000 + $0 * 1_000 }
        let burst = [15_000, 15_100, 15_200, 15_300]
        let calm = try Self.record(
            gates: #""reconnect_attempts{window:2s}":["count<=3"]"#,
            attempts: [],
            reconnects: spread
        )
        #expect(calm.gates[0].observed == 1, "one attempt per second of log time: a 1 s log window holds one")
        #expect(calm.verdict == .passed)
        let stormy = try Self.record(
            gates: #""reconnect_attempts{window:2s}":["count<=3"]"#,
            attempts: [],
            reconnects: spread + burst
        )
        #expect(stormy.gates[0].observed == 4)
        let start = try #require(stormy.gates[0].windowStart)
        #expect(start <= 15_000 && start + 1_000 > 15_300, "\(start)")
        #expect(stormy.verdict == .failed)
    }

    @Test(arguments: [
        (#"{"update_latency_ms{window:10s}":["p(95)<100"]}"#, "a window only on rate and count gates"),
        (#"{"server_connect_rate_peak{window:10s}":["count<100"]}"#, "already the busiest second"),
        (#"{"faults_not_injected{window:10s}":["count==0"]}"#, "run-wide"),
        (#"{"fallback_rate{window:0s}":["rate<0.1"]}"#, "a window length like window:30s"),
        (#"{"fallback_rate{window:soon}":["rate<0.1"]}"#, "a window length like window:30s"),
        (#"{"fallback_rate":[{"threshold":"rate<0.1","allowEmpty":"yes"}]}"#, "allowEmpty"),
        (#"{"fallback_rate":[{"threshold":"rate<0.1","abortOnFail":true}]}"#, "abortOnFail"),
        (#"{"fallback_rate":[{"allowEmpty":true}]}"#, "threshold"),
    ])
    func badWindowsAndGateObjectsAreRefusedWithTheirPath(gates: String, expected: String) throws {
        let text = #"{"name":"w","duration":"10s","clients":[{"count":1}],"gates":\#(gates)}"#
        let error = #expect(throws: FaultError.self) { try Scenario(bytes: Array(text.utf8)) }
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message.contains("gates["), "\(message)")
        #expect(message.contains(expected), "\(message)")
    }
}
