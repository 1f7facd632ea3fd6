import SquallFaults
import Testing

/// Each fault's rule on hand-made inputs: the decisions both engines carry out.
@Suite struct StreamRuleTests {
    private static func ms(_ value: Int) -> Duration { .milliseconds(value) }
    private static let random = SeededRandom(seed: 1)

    private static func rule(
        _ type: FaultType,
        _ attributes: [String: Double] = [:],
        at time: Int = 0
    ) throws
        -> StreamRule
    {
        let fault = try Fault(name: "f", type: type, direction: .downstream, attributes: attributes)
        var rule = StreamRule(fault.effect, random: Self.random, at: Self.ms(time))
        _ = rule.receive(.configured(fault.effect, at: Self.ms(time)))
        return rule
    }

    @Test func resetPeerDropsFromTheFirstUnitAndResetsAfterItsTimeout() throws {
        var rule = try Self.rule(.resetPeer, ["timeout": 300])
        #expect(rule.receive(.unit(StreamUnit(size: 10), at: Self.ms(100))) == [.drop, .wake(at: Self.ms(400))])
        #expect(rule.receive(.unit(StreamUnit(size: 10), at: Self.ms(200))) == [.drop], "armed once")
        #expect(rule.receive(.timer(at: Self.ms(400))) == [.close(.reset)])
        var now = try Self.rule(.resetPeer)
        #expect(now.receive(.end(at: Self.ms(50))) == [.dropEnd, .close(.reset)], "0: at once, the end too")
    }

    @Test func timeoutIsAnIdleWaitRestartedByEachUnit() throws {
        var rule = try Self.rule(.timeout, ["timeout": 1_000], at: 0)
        #expect(rule.receive(.unit(StreamUnit(size: 10), at: Self.ms(600))) == [.drop, .wake(at: Self.ms(1_600))])
        #expect(rule.receive(.timer(at: Self.ms(1_600))) == [.close(.fin)])
        #expect(rule.receive(.end(at: Self.ms(1_700))) == [.passEnd(at: Self.ms(1_700))])
        var never = try Self.rule(.timeout)
        #expect(never.receive(.unit(StreamUnit(size: 10), at: Self.ms(5))) == [.drop], "0 never closes")
        var blackhole = try Self.rule(.blackhole)
        #expect(blackhole.receive(.end(at: Self.ms(5))) == [.dropEnd], "a blackhole hides the close")
    }

    @Test func limitDataCutsTheCrossingUnitAndCloses() throws {
        var rule = try Self.rule(.limitData, ["bytes": 25])
        #expect(rule.receive(.unit(StreamUnit(size: 10), at: Self.ms(1))) == [.pass(bytes: nil, at: Self.ms(1))])
        #expect(
            rule.receive(.unit(StreamUnit(size: 30), at: Self.ms(2)))
                == [.pass(bytes: 15, at: Self.ms(2)), .drop, .close(.fin)]
        )
        #expect(rule.receive(.unit(StreamUnit(size: 5), at: Self.ms(3))) == [.drop])
        #expect(rule.receive(.end(at: Self.ms(4))) == [.dropEnd])
    }

    @Test func slicerPacesPiecesAcrossUnits() throws {
        var rule = try Self.rule(.slicer, ["average_size": 10, "delay": 20_000])
        #expect(
            rule.receive(.unit(StreamUnit(size: 25), at: Self.ms(0)))
                == [
                    .pass(bytes: 10, at: Self.ms(0)), .pass(bytes: 10, at: Self.ms(20)),
                    .pass(bytes: nil, at: Self.ms(40)),
                ]
        )
        // The next unit waits for the pause after the last piece; so does the end.
        #expect(rule.receive(.unit(StreamUnit(size: 5), at: Self.ms(10))) == [.pass(bytes: nil, at: Self.ms(60))])
        #expect(rule.receive(.end(at: Self.ms(11))) == [.passEnd(at: Self.ms(80))])
    }

    @Test func bandwidthHoldsAtRateZeroAndReleasesWhenChanged() throws {
        var rule = try Self.rule(.bandwidth, ["rate": 0])
        #expect(rule.receive(.unit(StreamUnit(size: 100), at: Self.ms(0))).isEmpty, "held")
        #expect(rule.receive(.end(at: Self.ms(1))).isEmpty, "the end waits behind it")
        let faster = try Fault(name: "f", type: .bandwidth, direction: .downstream, attributes: ["rate": 1_000])
        // The bucket starts refilling at the change: the held unit leaves once it has the tokens, the end behind it.
        guard case .wake(let due)? = rule.receive(.configured(faster.effect, at: Self.ms(10))).first else {
            Issue.record("no wake-up after the rate changed")
            return
        }
        #expect(due > Self.ms(10) && due < Self.ms(20))
        #expect(rule.receive(.timer(at: due)) == [.pass(bytes: nil, at: due), .passEnd(at: due)])
    }

    @Test func framesAreDroppedOrCountedByKind() throws {
        var pings = try Self.rule(.dropPings)
        #expect(pings.receive(.unit(StreamUnit(size: 8, kind: .frame(.ping)), at: Self.ms(1))) == [.drop])
        #expect(
            pings.receive(.unit(StreamUnit(size: 8, kind: .frame(.text)), at: Self.ms(2)))
                == [.pass(bytes: nil, at: Self.ms(2))]
        )
        var close = try Self.rule(.closeAfterFrames, ["frames": 2, "code": 1001])
        let text = StreamUnit(size: 8, kind: .frame(.text))
        #expect(close.receive(.unit(text, at: Self.ms(1))) == [.pass(bytes: nil, at: Self.ms(1))])
        #expect(
            close.receive(.unit(text, at: Self.ms(2))) == [
                .pass(bytes: nil, at: Self.ms(2)), .closeWebSocket(code: 1001),
            ]
        )
        #expect(close.receive(.unit(text, at: Self.ms(3))) == [.drop])
    }

    @Test func latencyDrawsTheSameDelaysAsItsPlan() throws {
        var rule = try Self.rule(.latency, ["latency": 100, "jitter": 30])
        var random = Self.random
        for index in 0..<20 {
            let expected = LatencyPlan.delayNanoseconds(delay: Self.ms(100), jitter: Self.ms(30), random: &random)
            #expect(
                rule.receive(.unit(StreamUnit(size: 1), at: Self.ms(index)))
                    == [.pass(bytes: nil, at: Self.ms(index) + .nanoseconds(expected))]
            )
        }
    }
}

/// The request faults' rule on hand-made requests.
@Suite struct RequestRuleTests {
    private static func rule(
        _ type: FaultType,
        _ attributes: [String: Double] = [:],
        texts: [String: String] = [:]
    )
        throws -> RequestRule
    {
        let fault = try Fault(name: "f", type: type, direction: .upstream, attributes: attributes, text: texts)
        return RequestRule(fault.effect, random: SeededRandom(seed: 3))
    }

    @Test func blockUpgradeActsOnUpgradesOnlyAndEachModeDecidesItsWay() throws {
        var reject = try Self.rule(.blockUpgrade, ["status": 403])
        #expect(reject.decide(method: "GET", target: "/api", isUpgrade: false, count: { 0 }) == .forward)
        #expect(
            reject.decide(method: "GET", target: "/ws", isUpgrade: true, count: { 0 })
                == .answer(status: 403, message: RequestRule.rejectMessage, closes: true)
        )
        let modes: [(String, RequestRule.Decision)] = [
            ("strip", .forwardStripped), ("reset", .reset), ("hang", .hang),
            ("blackhole_after_101", .forwardThenSilence),
            ("buffer_after_101", .forwardThenBuffer(interval: .seconds(1))),
        ]
        for (mode, expected) in modes {
            var rule = try Self.rule(.blockUpgrade, texts: ["mode": mode])
            #expect(rule.decide(method: "GET", target: "/ws", isUpgrade: true, count: { 0 }) == expected, "\(mode)")
        }
    }

    @Test func failRequestsAnswersEveryNthMatchOrDrawsItsRate() throws {
        var everySecond = try Self.rule(.failRequests, ["status": 503, "every": 2], texts: ["path": "/api"])
        var counted = 0
        let decisions = (0..<4).map { _ in
            everySecond.decide(method: "GET", target: "/api/job-state/x", isUpgrade: false) {
                counted += 1
                return counted
            }
        }
        let failed = RequestRule.Decision.answer(status: 503, message: RequestRule.failMessage, closes: false)
        #expect(decisions == [.forward, failed, .forward, failed])
        #expect(everySecond.decide(method: "GET", target: "/other", isUpgrade: false, count: { 99 }) == .forward)
        // With a rate, each match is a draw from the fault's generator: `Double.random(in: 0..<1)` below the rate.
        var rated = try Self.rule(.failRequests, ["rate": 0.5])
        var random = SeededRandom(seed: 3)
        for _ in 0..<20 {
            let expected = Double.random(in: 0..<1, using: &random) < 0.5
            let decision = rated.decide(method: "GET", target: "/", isUpgrade: false, count: { 0 })
            #expect((decision != .forward) == expected)
        }
    }
}
