import SquallReferenceClient
import SquallReferenceProtocol
import Testing

/// The client runtime's decisions (links, timers, reports) without sockets or clocks: what ``HybridClient`` and the
/// simulator both perform.
@Suite struct HybridClientDriverTests {
    @Test func opensALinkSendsReadyOnceOpenAndArmsTheHeartbeatWatcher() {
        var driver = HybridClientDriver(strategy: .resilient, seed: 1)
        #expect(
            driver.handle(.start, now: 0) == [
                .report(.connectAttempt(attempt: 0, probe: false)), .openLink(id: 1, .websocket, resumeAfter: 0),
            ]
        )
        let ready = String(decoding: ProtocolJSON.encode(HandshakeMessage.ready(lastSeq: 0)), as: UTF8.self)
        #expect(
            driver.handle(.linkOpened(id: 1), now: 100) == [
                .report(.connected(attempt: 0, probe: false, via: .websocket)), .sendText(id: 1, ready),
                .startTimer(.heartbeat, generation: 1, after: .seconds(30)),
            ]
        )
    }

    @Test func aHeartbeatRefreshedMeanwhileSleepsAgainAndExpiresOnlyAtItsDeadline() {
        var driver = HybridClientDriver(strategy: .resilient, seed: 1)
        _ = driver.handle(.start, now: 0)
        _ = driver.handle(.linkOpened(id: 1), now: 0)
        // A ping at 10 s moves the deadline to 40 s; the watcher set for 30 s wakes and sleeps the 10 s left.
        #expect(driver.handle(.ping(id: 1, payload: [1]), now: 10_000) == [.sendPong(id: 1, payload: [1])])
        #expect(
            driver.handle(.timer(.heartbeat, generation: 1), now: 30_000) == [
                .startTimer(.heartbeat, generation: 2, after: .seconds(10))
            ]
        )
        let expired = driver.handle(.timer(.heartbeat, generation: 2), now: 40_000)
        #expect(
            Array(expired.prefix(2)) == [
                .report(.closed(code: 1000, reason: "client closed: heartbeat timeout")), .closeLink(id: 1),
            ]
        )
        #expect(expired.contains { if case .startTimer(.reconnect, 1, _) = $0 { true } else { false } })
    }

    @Test func aHeartbeatWatcherWakingAHairBeforeItsDeadlineExpiresInsteadOfSleepingForNothing() {
        // The deadline is a double; a watcher that wakes a fraction of a nanosecond early used to be set again for
        // 0 ns, at the same instant, for ever: in virtual time nothing else moves the clock (a simulation hung).
        var driver = HybridClientDriver(strategy: .resilient, seed: 1)
        _ = driver.handle(.start, now: 0)
        _ = driver.handle(.linkOpened(id: 1), now: 0.5)
        let early = driver.handle(.timer(.heartbeat, generation: 1), now: 30_000.5 - 1e-7)
        #expect(early.first == .report(.closed(code: 1000, reason: "client closed: heartbeat timeout")))
        // Far enough from it, it still sleeps the time left, rounded up to a whole nanosecond.
        var later = HybridClientDriver(strategy: .resilient, seed: 1)
        _ = later.handle(.start, now: 0)
        _ = later.handle(.linkOpened(id: 1), now: 0.5)
        #expect(
            later.handle(.timer(.heartbeat, generation: 1), now: 29_000.5) == [
                .startTimer(.heartbeat, generation: 2, after: .seconds(1))
            ]
        )
    }

    @Test func aStaleLinkIsClosedAndItsEventsIgnored() {
        var driver = HybridClientDriver(strategy: .resilient, seed: 1)
        _ = driver.handle(.start, now: 0)
        _ = driver.handle(.link(id: 1, .linkFailed(reason: "refused")), now: 5)
        // Link 1 is gone: its late opening is closed, its close is not reported.
        #expect(driver.handle(.linkOpened(id: 1), now: 10) == [.closeLink(id: 1)])
        #expect(driver.handle(.link(id: 1, .linkClosed(code: 1000, reason: "x")), now: 11).isEmpty)
        // Only the current generation of a timer counts.
        #expect(driver.handle(.timer(.reconnect, generation: 7), now: 12).isEmpty)
    }

    @Test func deliveriesCarryTheirLatencyAndStopReportsStoppedOnlyBeforeTheEnd() {
        var driver = HybridClientDriver(strategy: .resilient, seed: 1)
        _ = driver.handle(.start, now: 0)
        _ = driver.handle(.linkOpened(id: 1), now: 0)
        let message = ProgressMessage(
            type: .complete,
            jobId: "job",
            seq: 1,
            timestamp: 1_000,
            data: ProgressData(progress: 1, processedItems: 1, totalItems: 1, currentStatus: "done")
        )
        let effects = driver.handle(.link(id: 1, .received(message)), now: 1_250)
        #expect(effects.contains(.report(.delivered(seq: 1, via: .websocket, latencyMs: 250, type: .complete))))
        #expect(effects.contains(.finished(.completed)))
        #expect(driver.outcome == .completed)
        #expect(driver.stop(reason: "client stopped").isEmpty, "a finished client is not stopped")
        var other = HybridClientDriver(strategy: .resilient, seed: 1)
        _ = other.handle(.start, now: 0)
        #expect(
            other.stop(reason: "client stopped") == [.report(.stopped(reason: "client stopped")), .closeLink(id: 1)]
        )
    }
}
