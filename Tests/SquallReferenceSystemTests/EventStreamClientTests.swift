import SquallFaults
import SquallProxy
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer
import Testing

/// The hybrid client's event-stream rung against the real server, over loopback (and through the real proxy).
@Suite struct EventStreamClientTests {
    /// Restarts the server's streams (150 ms of downtime) once its job has published message `seq`.
    private static func restart(
        _ server: ReferenceServer,
        afterPublishing seq: Int,
        _ events: Recorder<ReferenceServerEvent>
    ) async throws {
        while !events.all.contains(where: { if case .published(seq, _) = $0.kind { true } else { false } }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        server.restartStreams(downtime: .milliseconds(150))
    }

    @Test func deliversAWholeJobOverAnEventStream() async throws {
        try await withReferenceServer { server, events in
            var strategy = ClientStrategy.resilientSSE.fast()
            strategy.transports = [.sse, .polling]
            let job = server.createJob(JobCreation(totalItems: 10, itemInterval: .milliseconds(20)))
            let run = try await follow(job, at: server.address, strategy: strategy)
            #expect(run.outcome == .completed)
            #expect(run.deliveredSeqs == Array(1...10))
            #expect(run.deliveredVia.allSatisfy { $0 == .sse })
            #expect(!run.names.contains("fallback"))
            #expect(events.all.contains { $0.kind == .eventStreamOpened(lastSeq: 0, lastEventId: nil) })
            #expect(!events.all.contains { $0.kind == .streamOpened(lastSeq: 0) }, "no WebSocket was opened")
        }
    }

    @Test func resumesWithLastEventIdAfterARestart() async throws {
        try await withReferenceServer { server, events in
            var strategy = ClientStrategy.resilientSSE.fast()
            strategy.transports = [.sse, .polling]
            let job = server.createJob(JobCreation(totalItems: 30, itemInterval: .milliseconds(30)))
            let run = try await follow(job, at: server.address, strategy: strategy) {
                try await Self.restart(server, afterPublishing: 5, events)
            }
            #expect(run.outcome == .completed)
            #expect(run.deliveredSeqs == Array(1...30), "every message once, in order")
            #expect(run.names.contains("reconnect_attempt"))
            let resumed = events.all.compactMap { event -> (Int, String?)? in
                if case .eventStreamOpened(let lastSeq, let id) = event.kind, lastSeq > 0 { (lastSeq, id) } else { nil }
            }
            #expect(!resumed.isEmpty, "a later stream resumed after what the client had")
            #expect(resumed.allSatisfy { $0.1 == String($0.0) }, "with Last-Event-ID")
        }
    }

    @Test func withoutLastEventIdTheReplayArrivesTwice() async throws {
        try await withReferenceServer { server, events in
            var strategy = ClientStrategy.brokenSSENoLastEventId.fast()
            strategy.transports = [.sse, .polling]
            let job = server.createJob(JobCreation(totalItems: 30, itemInterval: .milliseconds(30)))
            let run = try await follow(job, at: server.address, strategy: strategy) {
                try await Self.restart(server, afterPublishing: 5, events)
            }
            #expect(run.outcome == .completed)
            #expect(run.deliveredSeqs.count > 30, "the replay from the start is delivered again")
            #expect(
                events.all.filter { $0.kind == .eventStreamOpened(lastSeq: 0, lastEventId: nil) }.count >= 2,
                "every stream asked for everything"
            )
        }
    }

    @Test func stepsDownToAnEventStreamWhenAProxyRejectsTheUpgrade() async throws {
        try await withReferenceServer { server, _ in
            try await withProxy(to: server, faults: [try Fault.upgradeRejection()]) { proxy in
                let job = server.createJob(JobCreation(totalItems: 30, itemInterval: .milliseconds(40)))
                let run = try await follow(job, at: proxy.address, strategy: ClientStrategy.resilientSSE.fast())
                #expect(run.outcome == .completed)
                let steps = run.events.compactMap { event -> (HybridClientStateMachine.Transport, String)? in
                    if case .steppedDown(let to, let reason) = event.kind { (to, reason) } else { nil }
                }
                #expect(steps.count == 1)
                #expect(steps.first?.0 == .sse)
                #expect(steps.first?.1.hasPrefix("upgrade rejected: HTTP 403") == true, "\(steps)")
                #expect(!run.names.contains("fallback"), "the event stream carried the job: no polling")
                #expect(run.names.filter { $0 == "reconnect_attempt" }.count == 5, "five WebSocket tries first")
                #expect(run.deliveredSeqs == Array(1...30))
                #expect(run.deliveredVia.contains(.sse))
            }
        }
    }

    @Test func anEventStreamThatAnswersAnErrorStatusFailsWithIt() async throws {
        try await withReferenceServer { server, _ in
            var strategy = ClientStrategy.resilientSSE.fast()
            strategy.transports = [.sse, .polling]
            strategy.reconnectAttempts = 0
            // A token for another job: the stream is refused with 401 and the client polls (also refused).
            let job = server.createJob(JobCreation(totalItems: 5, itemInterval: .milliseconds(20)))
            let other = server.createJob(JobCreation(totalItems: 5, itemInterval: .milliseconds(20)))
            let run = try await follow(
                JobCreation.Created(jobId: job.jobId, token: other.token),
                at: server.address,
                strategy: strategy,
                limit: .seconds(1)
            )
            #expect(run.reasons.contains { $0.hasPrefix("HTTP 401: send the job's token") }, "\(run.reasons)")
            #expect(run.names.contains("fallback"))
        }
    }
}
