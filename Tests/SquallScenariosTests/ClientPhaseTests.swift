import SquallReferenceClient
import Testing

@testable import SquallScenarios

/// The one reading of a client's events into a phase, which the progress line and the report's lanes follow.
@Suite struct ClientPhaseTests {
    private func phases(_ events: [ClientEventName]) -> [ClientPhase] {
        var tracker = ClientPhaseTracker()
        tracker.started()
        return events.map { event in
            tracker.apply(event)
            return tracker.phase
        }
    }

    @Test func aClientGoesFromConnectingToWebSocketAndBackWhenItsLinkIsLost() {
        var tracker = ClientPhaseTracker()
        #expect(tracker.phase == .waiting)
        let first = tracker.started()
        let second = tracker.started()
        #expect(first)
        #expect(!second, "a second start changes nothing")
        #expect(
            self.phases([.connectAttempt, .connected, .delivered, .closed, .reconnectAttempt, .connected])
                == [.connecting, .websocket, .websocket, .connecting, .connecting, .websocket]
        )
    }

    @Test func aClientOnItsEventStreamRungIsOnAnEventStream() {
        var tracker = ClientPhaseTracker()
        tracker.started()
        let kinds: [ClientEvent.Kind] = [
            .connectFailed(reason: "upgrade rejected: HTTP 403"), .steppedDown(to: .sse, reason: "upgrade rejected"),
            .connectAttempt(attempt: 0, probe: false), .connected(attempt: 0, probe: false, via: .sse),
            .closed(code: nil, reason: "server closed"), .fallback(reason: "refused"),
            .connected(attempt: 0, probe: true, via: .websocket), .recovered,
        ]
        let phases = kinds.map { kind in
            tracker.apply(kind)
            return tracker.phase
        }
        #expect(
            phases == [
                .connecting, .connecting, .connecting, .eventStream, .connecting, .polling, .websocket, .websocket,
            ]
        )
        // A probe that reopens an event stream (a ladder that starts with one) stays on it when it recovers.
        tracker.apply(.connected(attempt: 0, probe: true, via: .sse))
        let changed = tracker.apply(.recovered)
        #expect(!changed)
        #expect(tracker.phase == .eventStream)
    }

    @Test func anExternalClientsEventStreamCountsAsOneOnTheProgressLine() {
        // An external client's `connected` line names its link (`"via": "sse"`, as the MCP example's does); the
        // board once read it by name alone and counted every such client on WebSocket.
        let board = ClientBoard(["mcp-1", "mcp-2"])
        board.started("mcp-1")
        board.started("mcp-2")
        board.update(client: "mcp-1", event: .connected, via: .sse)
        board.update(client: "mcp-2", event: .connected)
        let progress = board.snapshot(elapsed: .seconds(1), total: .seconds(10), faults: [])
        #expect(progress.eventStream == 1)
        #expect(progress.websocket == 1)
    }

    @Test func aPollingClientStaysPollingThroughFailedProbesUntilItRecovers() {
        #expect(
            self.phases([.connectFailed, .fallback, .poll, .connectAttempt, .connectFailed, .poll, .recovered])
                == [.connecting, .polling, .polling, .polling, .polling, .polling, .websocket]
        )
    }

    @Test func aSuspensionFreezesThePhaseItResumesTo() {
        var tracker = ClientPhaseTracker()
        tracker.started()
        tracker.apply(.fallback)
        tracker.apply(.suspended)
        #expect(tracker.phase == .suspended)
        #expect(tracker.underlying == .polling, "counted where it was frozen")
        tracker.apply(.resumed)
        #expect(tracker.phase == .polling)
    }

    @Test func doneIsFinal() {
        #expect(
            self.phases([.connected, .finished, .closed, .fallback, .connected]) == [
                .websocket, .done, .done, .done, .done,
            ]
        )
        var tracker = ClientPhaseTracker()
        tracker.finish()
        let changed = tracker.apply(.connected)
        #expect(!changed)
        #expect(tracker.phase == .done)
    }
}
