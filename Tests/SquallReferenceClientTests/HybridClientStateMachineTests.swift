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
        #expect(machine.handle(.start) == [.connectWebSocket(attempt: 0, probe: false)])
        #expect(machine.handle(.webSocketOpened) == [.sendReady(lastSeq: 0), .armHeartbeat(.seconds(30))])
        #expect(
            machine.handle(.received(message(1))) == [
                .armHeartbeat(.seconds(30)), .deliver(message(1), via: .websocket),
            ]
        )
        #expect(machine.handle(.received(message(1))) == [.armHeartbeat(.seconds(30)), .dropDuplicate(seq: 1)])
        #expect(
            machine.handle(.received(message(2, .complete))) == [
                .armHeartbeat(.seconds(30)), .deliver(message(2, .complete), via: .websocket), .closeWebSocket,
                .finish(.completed),
            ]
        )
        #expect(machine.isFinished)
        #expect(machine.handle(.webSocketClosed(code: 1000, reason: "done")) == [])
    }

    @Test func reconnectsWithExponentialBackoffThenFallsBack() {
        var machine = HybridClientStateMachine(strategy: .booktrackPhase1, seed: 1)
        _ = machine.handle(.start)
        _ = machine.handle(.webSocketOpened)
        var delays: [Duration] = []
        var actions = machine.handle(.webSocketClosed(code: 1006, reason: "lost"))
        while case .scheduleReconnect(let attempt, let delay)? = actions.first {
            delays.append(delay)
            #expect(machine.handle(.reconnectTimerFired) == [.connectWebSocket(attempt: attempt, probe: false)])
            actions = machine.handle(.webSocketFailed(reason: "refused"))
        }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)])
        #expect(actions == [.fallBackToPolling(reason: "refused"), .poll(since: 0)], "phase1 has no WebSocket probe")
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
            _ = machine.handle(.webSocketOpened)
            var result: [Duration] = []
            var actions = machine.handle(.webSocketClosed(code: nil, reason: "lost"))
            while case .scheduleReconnect(_, let delay)? = actions.first {
                result.append(delay)
                _ = machine.handle(.reconnectTimerFired)
                actions = machine.handle(.webSocketFailed(reason: "refused"))
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
        _ = machine.handle(.webSocketOpened)
        _ = machine.handle(.received(message(1)))
        _ = machine.handle(.received(message(2)))
        guard case .scheduleReconnect? = machine.handle(.webSocketClosed(code: 1006, reason: "lost")).first else {
            Issue.record("expected a reconnect")
            return
        }
        _ = machine.handle(.reconnectTimerFired)
        #expect(
            machine.handle(.webSocketOpened) == [
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
        _ = machine.handle(.webSocketOpened)
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
        _ = machine.handle(.webSocketOpened)
        #expect(machine.handle(.heartbeat) == [.armHeartbeat(.seconds(30))])
        let actions = machine.handle(.heartbeatExpired)
        #expect(actions.first == .closeWebSocket)
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
            machine.handle(.webSocketFailed(reason: "403")) == [
                .fallBackToPolling(reason: "403"), .poll(since: 0), .scheduleProbe(after: .seconds(30)),
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
        #expect(machine.handle(.probeTimerFired) == [.connectWebSocket(attempt: 0, probe: true)])
        #expect(
            machine.handle(.webSocketFailed(reason: "403")) == [.scheduleProbe(after: .seconds(30))],
            "a failed probe keeps polling"
        )
        _ = machine.handle(.probeTimerFired)
        #expect(
            machine.handle(.webSocketOpened) == [
                .recoveredToWebSocket, .sendReady(lastSeq: 2), .armHeartbeat(.seconds(30)),
            ]
        )
        #expect(machine.handle(.pollTimerFired) == [], "polling stopped")
        #expect(!machine.isPolling)
    }

    @Test func pollingDeliversTheEndOfTheJob() {
        var machine = HybridClientStateMachine(strategy: .booktrackScanner, seed: 1)
        _ = machine.handle(.start)
        #expect(
            machine.handle(.webSocketFailed(reason: "upgrade rejected")) == [
                .fallBackToPolling(reason: "upgrade rejected"), .poll(since: 0),
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
                "broken-no-dedup", "broken-no-resume", "broken-no-heartbeat",
            ]
        )
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
        _ = noDedup.handle(.webSocketOpened)
        _ = noDedup.handle(.received(message(1)))
        #expect(noDedup.handle(.received(message(1))).contains(.deliver(message(1), via: .websocket)), "delivers twice")

        var noResume = HybridClientStateMachine(strategy: .brokenNoResume, seed: 1)
        _ = noResume.handle(.start)
        _ = noResume.handle(.webSocketOpened)
        _ = noResume.handle(.received(message(1)))
        _ = noResume.handle(.webSocketClosed(code: 1006, reason: "lost"))
        _ = noResume.handle(.reconnectTimerFired)
        #expect(noResume.handle(.webSocketOpened).first == .sendReady(lastSeq: 0), "replays from 0")
        #expect(noResume.handle(.received(message(1))).contains(.deliver(message(1), via: .websocket)))

        var noHeartbeat = HybridClientStateMachine(strategy: .brokenNoHeartbeat, seed: 1)
        _ = noHeartbeat.handle(.start)
        #expect(noHeartbeat.handle(.webSocketOpened) == [.sendReady(lastSeq: 0)], "never arms a heartbeat")
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
}
