import SquallFaults
import Testing

/// The rules of the event-stream faults (`buffer_stream`, `cut_stream`, `drop_events`) on hand-made blocks.
@Suite struct EventStreamRuleTests {
    private static let random = SeededRandom(seed: 1)
    private static func ms(_ value: Int) -> Duration { .milliseconds(value) }

    private static func event(_ size: Int) -> StreamUnit { StreamUnit(size: size, kind: .eventBlock(isEvent: true)) }
    private static let keepAlive = StreamUnit(size: 15, kind: .eventBlock(isEvent: false))

    private static func eventRule(
        _ type: FaultType,
        _ attributes: [String: Double] = [:],
        text: [String: String] = [:]
    )
        throws -> StreamRule
    {
        let fault = try Fault(name: "f", type: type, direction: .downstream, attributes: attributes, text: text)
        var rule = StreamRule(fault.effect, random: Self.random, at: .zero)
        _ = rule.receive(.configured(fault.effect, at: .zero))
        return rule
    }

    @Test func bufferStreamPassesExactlyItsSizeOnceHeldAndTheRestAtTheEnd() throws {
        var rule = try Self.eventRule(.bufferStream, ["bytes": 100])
        let pass = StreamDecision.pass(bytes: nil, at: Self.ms(3))
        #expect(rule.receive(.unit(Self.event(40), at: Self.ms(1))) == [])
        #expect(rule.receive(.unit(Self.keepAlive, at: Self.ms(2))) == [], "a comment is held like an event")
        // 40 + 15 + 70 = 125 held: the first two whole, 45 bytes of the third, and 25 stay.
        #expect(rule.receive(.unit(Self.event(70), at: Self.ms(3))) == [pass, pass, .pass(bytes: 45, at: Self.ms(3))])
        #expect(rule.receive(.unit(Self.event(74), at: Self.ms(4))) == [], "25 + 74 = 99: one byte short")
        #expect(
            rule.receive(.unit(Self.event(1), at: Self.ms(5)))
                == [
                    .pass(bytes: nil, at: Self.ms(5)), .pass(bytes: nil, at: Self.ms(5)),
                    .pass(bytes: nil, at: Self.ms(5)),
                ],
            "exactly 100: the rest of the third, the fourth and the fifth"
        )
        #expect(rule.receive(.unit(Self.event(30), at: Self.ms(6))) == [])
        // The answer's last chunk is not a block: what is held goes first, then it.
        #expect(
            rule.receive(.unit(StreamUnit(size: 5), at: Self.ms(7)))
                == [.pass(bytes: nil, at: Self.ms(7)), .pass(bytes: nil, at: Self.ms(7))]
        )
        #expect(rule.receive(.unit(Self.event(10), at: Self.ms(8))) == [])
        #expect(rule.receive(.end(at: Self.ms(9))) == [.pass(bytes: nil, at: Self.ms(9)), .passEnd(at: Self.ms(9))])
    }

    @Test func bufferStreamWithAnIntervalReleasesWhatIsHeldThatLongAfterTheFirstByte() throws {
        var rule = try Self.eventRule(.bufferStream, ["bytes": 0, "interval": 500])
        #expect(rule.receive(.unit(Self.event(10), at: Self.ms(100))) == [.wake(at: Self.ms(600))])
        #expect(rule.receive(.unit(Self.event(10_000), at: Self.ms(300))) == [], "0 bytes: never by size")
        #expect(rule.receive(.timer(at: Self.ms(599))) == [], "not yet")
        #expect(
            rule.receive(.timer(at: Self.ms(600))) == [
                .pass(bytes: nil, at: Self.ms(600)), .pass(bytes: nil, at: Self.ms(600)),
            ]
        )
        #expect(rule.receive(.unit(Self.event(10), at: Self.ms(700))) == [.wake(at: Self.ms(1_200))], "a new wait")
    }

    @Test func cutStreamCutsAfterItsEventsBetweenOrInsideOne() throws {
        var between = try Self.eventRule(.cutStream, ["events": 2], text: ["at": "after_event"])
        #expect(between.receive(.unit(StreamUnit(size: 120), at: Self.ms(1))) == [.pass(bytes: nil, at: Self.ms(1))])
        #expect(between.receive(.unit(Self.event(40), at: Self.ms(2))) == [.pass(bytes: nil, at: Self.ms(2))])
        #expect(between.receive(.unit(Self.keepAlive, at: Self.ms(3))) == [.pass(bytes: nil, at: Self.ms(3))])
        #expect(between.receive(.unit(Self.event(40), at: Self.ms(4))) == [.pass(bytes: nil, at: Self.ms(4))])
        #expect(between.receive(.unit(Self.event(40), at: Self.ms(5))) == [.drop, .close(.fin)])
        #expect(between.receive(.unit(Self.event(40), at: Self.ms(6))) == [.drop])
        #expect(between.receive(.end(at: Self.ms(7))) == [.dropEnd])

        var inside = try Self.eventRule(.cutStream, ["events": 0], text: ["close": "reset"])
        #expect(
            inside.receive(.unit(Self.event(41), at: Self.ms(1))) == [.pass(bytes: 20, at: Self.ms(1)), .close(.reset)]
        )
    }

    @Test func cutStreamAtARateDrawsAtEachEventReproducibly() throws {
        func cutAt() throws -> Int? {
            var rule = try Self.eventRule(.cutStream, ["rate": 0.05])
            for index in 0..<1_000 {
                if rule.receive(.unit(Self.event(10), at: Self.ms(index))).contains(.close(.fin)) { return index }
            }
            return nil
        }
        let first = try cutAt()
        #expect(first != nil)
        #expect(try cutAt() == first, "the same generator, the same event")
    }

    @Test func dropEventsDropsEveryNthEventOrDrawsItsRate() throws {
        var every = try Self.eventRule(.dropEvents, ["every": 3])
        let decisions = (1...6).map { every.receive(.unit(Self.event(10), at: Self.ms($0))) }
        #expect(decisions.map { $0 == [.drop] } == [false, false, true, false, false, true])
        #expect(every.receive(.unit(Self.keepAlive, at: Self.ms(7))) == [.pass(bytes: nil, at: Self.ms(7))])
        #expect(every.receive(.end(at: Self.ms(8))) == [.passEnd(at: Self.ms(8))])

        var rated = try Self.eventRule(.dropEvents, ["rate": 0.25])
        let dropped = (0..<4_000).filter { rated.receive(.unit(Self.event(10), at: Self.ms($0))) == [.drop] }.count
        #expect((800...1_200).contains(dropped), "about a quarter of 4 000: \(dropped)")
        var none = try Self.eventRule(.dropEvents, ["rate": 0])
        #expect(none.receive(.unit(Self.event(10), at: Self.ms(1))) == [.pass(bytes: nil, at: Self.ms(1))])
    }

    @Test func eventFaultsActDownstreamWhateverTheirStream() throws {
        for type in [FaultType.bufferStream, .cutStream, .dropEvents] {
            let fault = try Fault(type: type, direction: .upstream)
            #expect(fault.chainPart(in: .downstream) == .messages)
            #expect(fault.chainPart(in: .upstream) == nil)
        }
    }
}
