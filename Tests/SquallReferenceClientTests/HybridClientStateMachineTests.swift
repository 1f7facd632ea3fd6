import Foundation
import SquallReferenceClient
import SquallReferenceProtocol
import Testing

private func message(_ seq: Int, _ type: ProgressMessage.MessageType = .progress) -> ProgressMessage {
    ProgressMessage(
        type: type,
        jobId: "job",
        seq: seq,
        timestamp: 1_000 + Int64(seq),
        data: ProgressData(
            progress: Double(seq) / 10,
            processedItems: seq,
            totalItems: 10,
            currentStatus: "item \(seq)"
        )
    )
}

private func state(_ seqs: ClosedRange<Int>, final: Bool = false) -> JobState {
    let messages = seqs.map { message($0, final && $0 == seqs.upperBound ? .complete : .progress) }
    return JobState(
        jobId: "job",
        status: final ? .completed : .running,
        processedItems: seqs.upperBound,
        totalItems: 10,
        lastSeq: seqs.upperBound,
        messages: messages
    )
}

/// Every transition of the hybrid client, without sockets.
@Suite struct HybridClientStateMachineTests {
    @Test func connectsThenSendsReadyAndDeliversInOrder() {
        var machine = HybridClientStateMachine(strategy: .resilient, seed: 1)
        #expect(machine.handle(.start) == [.connectLink(.websocket, attempt: 0, probe: false)])
        #expect(machine.handle(.linkOpened) == [.sendReady(lastSeq: 0), .armHeartbeat(.seconds(30))])
        #expect(
            machine.handle(.received(message(1))) == [
                .armHeartbeat(.seconds(30)), .deliver(message(1), via: .websocket),
            ]
        )
        #expect(machine.handle(.received(message(1))) == [.armHeartbeat(.seconds(30)), .dropDuplicate(seq: 1)])
        #expect(
            machine.handle(.received(message(2, .complete))) == [
                .armHeartbeat(.seconds(30)), .deliver(message(2, .complete), via: .websocket), .closeLink,
                .finish(.completed),
            ]
        )
        #expect(machine.isFinished)
        #expect(machine.handle(.linkClosed(code: 1000, reason: "done")) == [])
    }

    @Test func reconnectsWithExponentialBackoffThenFallsBack() {
        var machine = HybridClientStateMachine(strategy: .booktrackPhase1, seed: 1)
        _ = machine.handle(.start)
        _ = machine.handle(.linkOpened)
        var delays: [Duration] = []
        var actions = machine.handle(.linkClosed(code: 1006, reason: "lost"))
        while case .scheduleReconnect(let attempt, let delay)? = actions.first {
            delays.append(delay)
            #expect(machine.handle(.reconnectTimerFired) == [.connectLink(.websocket, attempt: attempt, probe: false)])
            actions = machine.handle(.linkFailed(reason: "refused"))
        }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)])
        #expect(
            actions == [.fallBack(to: .polling, reason: "refused"), .poll(since: 0)],
            "phase1 has no WebSocket probe"
        )
        #expect(machine.isPolling)
    }

    @Test func backoffIsCappedAndTimeScaled() {
        var strategy = ClientStrategy.resilient
        strategy.backoffJitter = 0
        strategy.reconnectAttempts = 8
        strategy.timeScale = 0.1
        #expect(
            (1...8).map { strategy.scaled(strategy.backoff(attempt: $0)) }
                == [0.1, 0.2, 0.4, 0.8, 1.6, 3.0, 3.0, 3.0].map { Duration.milliseconds(Int($0 * 1000)) }
        )
    }

    @Test func jitterIsSeededAndBounded() {
        func delays(seed: UInt64) -> [Duration] {
            var machine = HybridClientStateMachine(strategy: .resilient, seed: seed)
            _ = machine.handle(.start)
            _ = machine.handle(.linkOpened)
            var result: [Duration] = []
            var actions = machine.handle(.linkClosed(code: nil, reason: "lost"))
            while case .scheduleReconnect(_, let delay)? = actions.first {
                result.append(delay)
                _ = machine.handle(.reconnectTimerFired)
                actions = machine.handle(.linkFailed(reason: "refused"))
            }
            return result
        }
        let first = delays(seed: 9)
        #expect(first == delays(seed: 9))
        #expect(first != delays(seed: 10))
        for (index, delay) in first.enumerated() {
            let base = Duration.seconds(1 << index)
            #expect(delay >= base * 0.8 && delay <= base * 1.2)
        }
    }

    @Test func resumesWithLastSeqAndSyncsStateAfterReconnect() {
        var machine = HybridClientStateMachine(strategy: .resilient, seed: 1)
        _ = machine.handle(.start)
        _ = machine.handle(.linkOpened)
        _ = machine.handle(.received(message(1)))
        _ = machine.handle(.received(message(2)))
        guard case .scheduleReconnect? = machine.handle(.linkClosed(code: 1006, reason: "lost")).first else {
            Issue.record("expected a reconnect")
            return
        }
        _ = machine.handle(.reconnectTimerFired)
        #expect(
            machine.handle(.linkOpened) == [
                .sendReady(lastSeq: 2), .armHeartbeat(.seconds(30)), .fetchState(since: 2, attempt: 1),
            ]
        )
        #expect(machine.handle(.stateSyncFailed(reason: "503")) == [.fetchState(since: 2, attempt: 2)])
        #expect(
            machine.handle(.stateSyncAnswered(state(3...4))) == [
                .deliver(message(3), via: .polling), .deliver(message(4), via: .polling),
            ]
        )
        #expect(
            machine.handle(.received(message(4))) == [.armHeartbeat(.seconds(30)), .dropDuplicate(seq: 4)],
            "the replay is de-duplicated"
        )
    }

    @Test func aGapTriggersAStateSyncInsteadOfOutOfOrderDelivery() {
        var machine = HybridClientStateMachine(strategy: .resilient, seed: 1)
        _ = machine.handle(.start)
        _ = machine.handle(.linkOpened)
        _ = machine.handle(.received(message(1)))
        #expect(
            machine.handle(.received(message(3))) == [.armHeartbeat(.seconds(30)), .fetchState(since: 1, attempt: 1)]
        )
        #expect(
            machine.handle(.stateSyncAnswered(state(2...3))) == [
                .deliver(message(2), via: .polling), .deliver(message(3), via: .polling),
            ]
        )
    }

    @Test func heartbeatTimeoutClosesAndReconnects() {
        var machine = HybridClientStateMachine(strategy: .resilient, seed: 1)
        _ = machine.handle(.start)
        _ = machine.handle(.linkOpened)
        #expect(machine.handle(.heartbeat) == [.armHeartbeat(.seconds(30))])
        let actions = machine.handle(.heartbeatExpired)
        #expect(actions.first == .closeLink)
        guard case .scheduleReconnect(attempt: 1, _)? = actions.dropFirst().first else {
            Issue.record("expected a reconnect, got \(actions)")
            return
        }
    }

    @Test func pollsThenProbesAndReturnsToWebSocket() {
        var strategy = ClientStrategy.resilient
        strategy.reconnectAttempts = 0
        var machine = HybridClientStateMachine(strategy: strategy, seed: 1)
        _ = machine.handle(.start)
        #expect(
            machine.handle(.linkFailed(reason: "403")) == [
                .fallBack(to: .polling, reason: "403"), .poll(since: 0), .scheduleProbe(after: .seconds(30)),
            ]
        )
        #expect(
            machine.handle(.pollAnswered(state(1...2))) == [
                .deliver(message(1), via: .polling), .deliver(message(2), via: .polling),
                .schedulePoll(after: .seconds(2)),
            ]
        )
        #expect(machine.handle(.pollFailed(reason: "timeout")) == [.schedulePoll(after: .seconds(2))])
        #expect(machine.handle(.pollTimerFired) == [.poll(since: 2)])
        #expect(machine.handle(.probeTimerFired) == [.connectLink(.websocket, attempt: 0, probe: true)])
        #expect(
            machine.handle(.linkFailed(reason: "403")) == [.scheduleProbe(after: .seconds(30))],
            "a failed probe keeps polling"
        )
        _ = machine.handle(.probeTimerFired)
        #expect(
            machine.handle(.linkOpened) == [
                .recovered, .sendReady(lastSeq: 2), .armHeartbeat(.seconds(30)),
            ]
        )
        #expect(machine.handle(.pollTimerFired) == [], "polling stopped")
        #expect(!machine.isPolling)
    }

    @Test func pollingDeliversTheEndOfTheJob() {
        var machine = HybridClientStateMachine(strategy: .booktrackScanner, seed: 1)
        _ = machine.handle(.start)
        #expect(
            machine.handle(.linkFailed(reason: "upgrade rejected")) == [
                .fallBack(to: .polling, reason: "upgrade rejected"), .poll(since: 0),
            ]
        )
        #expect(
            machine.handle(.pollAnswered(state(1...3, final: true))) == [
                .deliver(message(1), via: .polling), .deliver(message(2), via: .polling),
                .deliver(message(3, .complete), via: .polling), .finish(.completed),
            ]
        )
    }

    /// Each preset's documented numbers.
    @Test func presets() {
        #expect(
            ClientStrategy.presets.map(\.name) == [
                "resilient", "booktrack-scanner", "andi-hybrid", "booktrack-phase1", "lume-chat",
                "broken-no-dedup", "broken-no-resume", "broken-no-heartbeat", "resilient-sse",
                "broken-sse-no-last-event-id", "broken-sse-never-falls-back", "broken-sse-no-delay",
            ]
        )
        #expect(ClientStrategy.resilient.transports == [.websocket, .polling], "the seeds' ladder")
        #expect(ClientStrategy.resilientSSE.transports == [.websocket, .sse, .polling])
        #expect(ClientStrategy.brokenSSENeverFallsBack.transports == [.sse])
        let noDelay = ClientStrategy.brokenSSENoDelay
        #expect((1...20).map { noDelay.backoff(attempt: $0) } == Array(repeating: .microseconds(2_500), count: 20))
        let andi = ClientStrategy.andiHybrid
        #expect((1...5).map { andi.backoff(attempt: $0) } == Array(repeating: .seconds(3), count: 5))
        #expect(andi.heartbeatTimeout == .seconds(15) && andi.pollInterval == .seconds(5))
        #expect(ClientStrategy.lumeChat.reconnectAttempts == 0 && ClientStrategy.lumeChat.pollInterval == .seconds(3))
        #expect(ClientStrategy.booktrackScanner.probeInterval == nil)
        #expect(ClientStrategy.preset(named: "nope") == nil)
    }

    @Test func brokenPresetsProduceTheirDefects() {
        var noDedup = HybridClientStateMachine(strategy: .brokenNoDedup, seed: 1)
        _ = noDedup.handle(.start)
        _ = noDedup.handle(.linkOpened)
        _ = noDedup.handle(.received(message(1)))
        #expect(noDedup.handle(.received(message(1))).contains(.deliver(message(1), via: .websocket)), "delivers twice")

        var noResume = HybridClientStateMachine(strategy: .brokenNoResume, seed: 1)
        _ = noResume.handle(.start)
        _ = noResume.handle(.linkOpened)
        _ = noResume.handle(.received(message(1)))
        _ = noResume.handle(.linkClosed(code: 1006, reason: "lost"))
        _ = noResume.handle(.reconnectTimerFired)
        #expect(noResume.handle(.linkOpened).first == .sendReady(lastSeq: 0), "replays from 0")
        #expect(noResume.handle(.received(message(1))).contains(.deliver(message(1), via: .websocket)))

        var noHeartbeat = HybridClientStateMachine(strategy: .brokenNoHeartbeat, seed: 1)
        _ = noHeartbeat.handle(.start)
        #expect(noHeartbeat.handle(.linkOpened) == [.sendReady(lastSeq: 0)], "never arms a heartbeat")
        #expect(noHeartbeat.handle(.received(message(1))) == [.deliver(message(1), via: .websocket)])
    }

    @Test func messagesRoundTripAsJSON() throws {
        let encoded = try JSONEncoder().encode(message(3))
        let text = String(decoding: encoded, as: UTF8.self)
        for key in [
            "\"type\":\"progress\"", "\"jobId\":\"job\"", "\"seq\":3", "\"processedItems\":3",
            "\"currentStatus\":\"item 3\"",
        ] {
            #expect(text.contains(key))
        }
        #expect(try JSONDecoder().decode(ProgressMessage.self, from: encoded) == message(3))
        let ready = try JSONEncoder().encode(HandshakeMessage.ready(lastSeq: 7))
        #expect(String(decoding: ready, as: UTF8.self).contains("\"lastSeq\":7"))
        #expect(
            String(decoding: try JSONEncoder().encode(HandshakeMessage.readyAck(jobId: "j", lastSeq: 0)), as: UTF8.self)
                .contains("ready_ack")
        )
    }

    /// Fails the link being opened until the machine stops reconnecting on its rung; returns the actions of the
    /// failure that ended the rung, and the delays it waited.
    private func exhaustRung(
        _ machine: inout HybridClientStateMachine,
        reason: String = "refused"
    ) -> (last: [HybridClientStateMachine.Action], delays: [Duration]) {
        var delays: [Duration] = []
        while true {
            let actions = machine.handle(.linkFailed(reason: reason))
            guard case .scheduleReconnect(_, let delay)? = actions.first, actions.count == 1 else {
                return (actions, delays)
            }
            delays.append(delay)
            _ = machine.handle(.reconnectTimerFired)
        }
    }

    @Test func theLadderStepsFromWebSocketToAnEventStreamThenToPollingAndProbesBack() {
        var machine = HybridClientStateMachine(strategy: .resilientSSE, seed: 1)
        #expect(machine.handle(.start) == [.connectLink(.websocket, attempt: 0, probe: false)])
        let (toSSE, webSocketDelays) = self.exhaustRung(&machine, reason: "upgrade rejected: HTTP 403")
        #expect(webSocketDelays.count == 5, "the WebSocket rung's own 5 tries")
        #expect(
            toSSE == [
                .fallBack(to: .sse, reason: "upgrade rejected: HTTP 403"),
                .connectLink(.sse, attempt: 0, probe: false),
            ]
        )
        // An event stream needs no `ready`: it asked to resume in its request.
        #expect(machine.handle(.linkOpened) == [.armHeartbeat(.seconds(30))])
        #expect(
            machine.handle(.received(message(1))) == [.armHeartbeat(.seconds(30)), .deliver(message(1), via: .sse)]
        )
        #expect(machine.resumeSeq == 1)
        // Lost, then its own 5 tries (they start over on the new rung), resuming after seq 1.
        let lost = machine.handle(.linkClosed(code: nil, reason: "server closed"))
        guard case .scheduleReconnect(1, _)? = lost.first else {
            Issue.record("an event stream's loss reconnects on its rung first: \(lost)")
            return
        }
        #expect(machine.handle(.reconnectTimerFired) == [.connectLink(.sse, attempt: 1, probe: false)])
        let (toPolling, sseDelays) = self.exhaustRung(&machine)
        #expect(sseDelays.count == 4, "tries 2…5 on the event-stream rung")
        #expect(
            toPolling == [
                .fallBack(to: .polling, reason: "refused"), .poll(since: 1), .scheduleProbe(after: .seconds(30)),
            ]
        )
        // The probe goes back to the first rung.
        #expect(machine.handle(.probeTimerFired) == [.connectLink(.websocket, attempt: 0, probe: true)])
        #expect(
            machine.handle(.linkOpened) == [.recovered, .sendReady(lastSeq: 1), .armHeartbeat(.seconds(30))]
        )
    }

    @Test func aBufferedEventStreamIsNoticedByTheHeartbeat() {
        var machine = HybridClientStateMachine(strategy: .resilientSSE, seed: 1)
        _ = machine.handle(.start)
        _ = self.exhaustRung(&machine)
        _ = machine.handle(.linkOpened)
        // Nothing arrives (a proxy holds the stream): the heartbeat expires and the stream counts as lost.
        let actions = machine.handle(.heartbeatExpired)
        #expect(actions.first == .closeLink)
        guard case .scheduleReconnect(1, _)? = actions.dropFirst().first else {
            Issue.record("a silent stream is reconnected: \(actions)")
            return
        }
        #expect(machine.handle(.reconnectTimerFired) == [.connectLink(.sse, attempt: 1, probe: false)])
        // A keep-alive comment is a sign of life.
        _ = machine.handle(.linkOpened)
        #expect(machine.handle(.heartbeat) == [.armHeartbeat(.seconds(30))])
    }

    @Test func anEventStreamThatOpensButStaysSilentRunsOutItsTriesAndPolls() {
        var machine = HybridClientStateMachine(strategy: .resilientSSE, seed: 1)
        _ = machine.handle(.start)
        _ = self.exhaustRung(&machine)
        // Every reopening is held silent by a buffering proxy: an opening proves nothing, so the tries add up.
        var attempts: [Int] = []
        for _ in 0..<10 {
            _ = machine.handle(.linkOpened)
            let actions = machine.handle(.heartbeatExpired)
            guard case .scheduleReconnect(let attempt, _)? = actions.dropFirst().first else {
                #expect(actions.contains(.fallBack(to: .polling, reason: "heartbeat timeout")))
                #expect(machine.isPolling)
                break
            }
            attempts.append(attempt)
            _ = machine.handle(.reconnectTimerFired)
        }
        #expect(attempts == [1, 2, 3, 4, 5], "then polling, as when it cannot connect at all")
        // One that carried anything before going silent starts its tries over.
        var proven = HybridClientStateMachine(strategy: .resilientSSE, seed: 1)
        _ = proven.handle(.start)
        _ = self.exhaustRung(&proven)
        for _ in 0..<10 {
            _ = proven.handle(.linkOpened)
            _ = proven.handle(.heartbeat)
            let actions = proven.handle(.heartbeatExpired)
            #expect(actions.contains { if case .scheduleReconnect(1, _) = $0 { true } else { false } })
            _ = proven.handle(.reconnectTimerFired)
        }
    }

    @Test func aLadderWithoutPollingKeepsReconnectingAtTheLongestBackoff() {
        var machine = HybridClientStateMachine(strategy: .brokenSSENeverFallsBack, seed: 1)
        #expect(machine.handle(.start) == [.connectLink(.sse, attempt: 0, probe: false)])
        var delays: [Duration] = []
        for _ in 0..<20 {
            let actions = machine.handle(.linkFailed(reason: "refused"))
            guard case .scheduleReconnect(_, let delay)? = actions.first, actions.count == 1 else {
                Issue.record("it never steps off its only rung: \(actions)")
                return
            }
            delays.append(delay)
            _ = machine.handle(.reconnectTimerFired)
        }
        #expect(delays.count == 20)
        // Backoff 1 s doubling to 30 s with ±20 % jitter: past the tries it stays near the cap.
        #expect(delays.suffix(10).allSatisfy { $0 >= .seconds(24) && $0 <= .seconds(36) })
        // And it never watches for a silent stream: no heartbeat is armed (only the state sync after a reconnect).
        #expect(machine.handle(.linkOpened) == [.fetchState(since: 0, attempt: 1)])
        #expect(machine.handle(.received(message(1))) == [.deliver(message(1), via: .sse)])
    }

    @Test func aPollingOnlyLadderPollsFromTheStart() {
        var strategy = ClientStrategy.resilient
        strategy.transports = [.polling]
        var machine = HybridClientStateMachine(strategy: strategy, seed: 1)
        #expect(machine.handle(.start) == [.poll(since: 0)])
        #expect(machine.isPolling)
        #expect(
            machine.handle(.pollAnswered(state(1...2))) == [
                .deliver(message(1), via: .polling), .deliver(message(2), via: .polling),
                .schedulePoll(after: .seconds(2)),
            ]
        )
    }

    @Test func aStrategyThatDoesNotResumeAsksForEverythingAgain() {
        var machine = HybridClientStateMachine(strategy: .brokenSSENoLastEventId, seed: 1)
        _ = machine.handle(.start)
        _ = self.exhaustRung(&machine)
        _ = machine.handle(.linkOpened)
        _ = machine.handle(.received(message(1)))
        _ = machine.handle(.received(message(2)))
        #expect(machine.lastSeq == 2)
        #expect(machine.resumeSeq == 0, "no Last-Event-ID")
        _ = machine.handle(.linkClosed(code: nil, reason: "server closed"))
        _ = machine.handle(.reconnectTimerFired)
        _ = machine.handle(.linkOpened)
        #expect(
            machine.handle(.received(message(1))) == [.armHeartbeat(.seconds(30)), .deliver(message(1), via: .sse)]
        )
    }
}
