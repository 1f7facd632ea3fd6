import SquallFaults
import SquallProxy
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer
import Testing

/// The hybrid client against the real server, through the real proxy, over loopback.
@Suite struct HybridClientTests {
    @Test func deliversAWholeJobByWebSocket() async throws {
        try await withReferenceServer { server, events in
            let job = server.createJob(JobCreation(totalItems: 10, itemInterval: .milliseconds(20)))
            let run = try await follow(job, at: server.address, strategy: ClientStrategy.resilient.fast())
            #expect(run.outcome == .completed)
            #expect(run.deliveredSeqs == Array(1...10))
            #expect(run.deliveredVia.allSatisfy { $0 == .websocket })
            #expect(run.names.first == "connect_attempt")
            #expect(run.names.contains("connected"))
            #expect(run.names.last == "finished")
            #expect(!run.names.contains("fallback"))
            #expect(events.all.contains { $0.kind == .streamOpened(lastSeq: 0) })
        }
    }

    @Test func resumesWithoutLossOrDuplicateAfterTheServerRestartsItsWebSocketSide() async throws {
        try await withReferenceServer { server, events in
            let job = server.createJob(JobCreation(totalItems: 30, itemInterval: .milliseconds(30)))
            let run = try await follow(job, at: server.address, strategy: ClientStrategy.resilient.fast()) {
                try await Self.waitForStream(events)
                server.restartStreams(downtime: .milliseconds(150))
            }
            #expect(run.outcome == .completed)
            #expect(run.events.contains { $0.kind == .closed(code: 1012, reason: "service restart") })
            #expect(run.names.contains("reconnect_attempt"))
            #expect(run.names.filter { $0 == "connected" }.count >= 2, "reconnected")
            #expect(run.names.contains("state_sync"))
            #expect(run.deliveredSeqs == Array(1...30), "every message once, in order")
            #expect(!run.names.contains("fallback"))
        }
    }

    @Test func completesByPollingWhenAProxyRejectsTheUpgrade() async throws {
        try await withReferenceServer { server, _ in
            try await withProxy(to: server, faults: [try Fault.upgradeRejection()]) { proxy in
                let job = server.createJob(JobCreation(totalItems: 30, itemInterval: .milliseconds(40)))
                let run = try await follow(job, at: proxy.address, strategy: ClientStrategy.resilient.fast())
                #expect(run.outcome == .completed)
                #expect(run.names.contains("fallback"))
                #expect(!run.names.contains("connected"))
                #expect(run.reasons.contains { $0.contains("upgrade rejected: HTTP 403") })
                #expect(run.names.filter { $0 == "reconnect_attempt" }.count == 5, "resilient tries five times first")
                #expect(run.deliveredSeqs == Array(1...30))
                #expect(run.deliveredVia.allSatisfy { $0 == .polling })
                #expect(run.names.contains("poll"))
            }
        }
    }

    @Test func heartbeatTimeoutNoticesAHalfOpenLineThenRecovers() async throws {
        try await withReferenceServer { server, _ in
            try await withProxy(to: server) { proxy in
                let job = server.createJob(JobCreation(totalItems: 40, itemInterval: .milliseconds(50)))
                let run = try await follow(job, at: proxy.address, strategy: ClientStrategy.resilient.fast()) {
                    try await Task.sleep(for: .milliseconds(300))
                    _ = await proxy.handoff(Handoff(mode: .blackhole))
                }
                #expect(run.outcome == .completed)
                #expect(run.reasons.contains { $0.contains("heartbeat timeout") })
                #expect(run.names.filter { $0 == "connected" }.count >= 2)
                #expect(run.deliveredSeqs == Array(1...40))
            }
        }
    }

    @Test func brokenNoHeartbeatMissesAHalfOpenLine() async throws {
        try await withReferenceServer { server, _ in
            try await withProxy(to: server) { proxy in
                let job = server.createJob(JobCreation(totalItems: 40, itemInterval: .milliseconds(50)))
                let run = try await follow(
                    job,
                    at: proxy.address,
                    strategy: ClientStrategy.brokenNoHeartbeat.fast(),
                    limit: .seconds(4)
                ) {
                    try await Task.sleep(for: .milliseconds(300))
                    _ = await proxy.handoff(Handoff(mode: .blackhole))
                }
                #expect(run.outcome == nil, "the job ended at 2 s, the client never noticed")
                #expect(run.names.last == "stopped")
                #expect(!run.names.contains("closed"))
                #expect(run.deliveredSeqs.count < 40)
                #expect(run.deliveredSeqs == Array(1...run.deliveredSeqs.count), "a prefix, then silence")
            }
        }
    }

    @Test func brokenNoDedupDeliversAMessageTwice() async throws {
        try await withReferenceServer { server, events in
            let job = server.createJob(JobCreation(totalItems: 30, itemInterval: .milliseconds(30)))
            let run = try await follow(job, at: server.address, strategy: ClientStrategy.brokenNoDedup.fast()) {
                try await Self.waitForStream(events)
                server.restartStreams(downtime: .milliseconds(200))
            }
            let seqs = run.deliveredSeqs
            #expect(Set(seqs) == Set(1...30), "nothing lost")
            #expect(Set(seqs).count < seqs.count, "the replay and the state sync both delivered: duplicates")
            #expect(!run.names.contains("duplicate_dropped"))
        }
    }

    @Test func brokenNoResumeReplaysFromTheStart() async throws {
        try await withReferenceServer { server, events in
            let job = server.createJob(JobCreation(totalItems: 30, itemInterval: .milliseconds(30)))
            let run = try await follow(job, at: server.address, strategy: ClientStrategy.brokenNoResume.fast()) {
                try await Self.waitForStream(events)
                server.restartStreams(downtime: .milliseconds(100))
            }
            #expect(run.deliveredSeqs.filter { $0 == 1 }.count == 2, "seq 1 again after the reconnect")
            #expect(events.all.filter { $0.kind == .streamOpened(lastSeq: 0) }.count == 2, "it said lastSeq 0 twice")
        }
    }

    /// Waits until the client's stream is open and a few messages went out on it, so a restart has something to
    /// cut even when a loaded machine starts the client late (bounded: 10 s).
    private static func waitForStream(_ events: Recorder<ReferenceServerEvent>) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if events.all.contains(where: { $0.kind == .streamOpened(lastSeq: 0) }) { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}
