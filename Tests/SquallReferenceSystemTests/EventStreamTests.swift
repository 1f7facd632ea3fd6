import NIOCore
import SquallReferenceProtocol
import SquallReferenceServer
import SquallTestSupport
import Testing

/// The job-progress server's event stream (`GET /sse/progress`), read by a real HTTP client and the standard's
/// parser.
@Suite struct EventStreamTests {
    /// The events in what a client received so far.
    private func events(_ client: StreamingHTTPTestClient) throws -> [ServerSentEventParser.Block] {
        var parser = ServerSentEventParser()
        return try parser.feed(client.received.body)
    }

    private func messages(_ blocks: [ServerSentEventParser.Block]) throws -> [ProgressMessage] {
        try blocks.compactMap(\.event).map { try ProtocolJSON.decode(ProgressMessage.self, from: $0.data.utf8) }
    }

    @Test func streamsEveryMessageAsAnEventWhoseIdIsItsSeqThenEnds() async throws {
        try await withReferenceServer { server, events in
            let job = server.createJob(JobCreation(totalItems: 4, itemInterval: .milliseconds(30)))
            let client = try await StreamingHTTPTestClient.get(
                port: server.localAddress.port!,
                "/sse/progress?jobId=\(job.jobId)",
                headers: [("Authorization", "Bearer \(job.token)")]
            )
            #expect(await Eventually.wait { client.received.closed })
            let received = client.received
            #expect(received.status == 200)
            #expect(received.headers["content-type"] == "text/event-stream")
            #expect(received.headers["cache-control"] == "no-cache")
            #expect(received.headers["transfer-encoding"] == "chunked")
            #expect(received.ended, "the response ends with its last chunk before the connection closes")
            let blocks = try self.events(client)
            #expect(blocks.first?.retry == 1_000, "the first block sets the reconnection time")
            let messages = try self.messages(blocks)
            #expect(messages.map(\.seq) == [1, 2, 3, 4])
            #expect(messages.last?.type == .complete)
            #expect(blocks.compactMap(\.event).map(\.lastEventId) == ["1", "2", "3", "4"])
            let kinds = events.all.map(\.kind).filter {
                switch $0 {
                case .eventStreamOpened, .eventStreamClosed: true
                default: false
                }
            }
            #expect(
                kinds == [
                    .eventStreamOpened(lastSeq: 0, lastEventId: nil), .eventStreamClosed(reason: "job completed"),
                ]
            )
        }
    }

    @Test func resumesAfterLastEventIdAndKeepsAnIdleStreamAlive() async throws {
        try await withReferenceServer { server, events in
            let job = server.createJob(JobCreation(totalItems: 40, itemInterval: .milliseconds(40)))
            let api = APIClient(port: server.localAddress.port!)
            #expect(
                await Eventually.wait {
                    let state = try? await api.request("GET", "/api/job-state/\(job.jobId)?token=\(job.token)")
                    return state?.body.contains("\"lastSeq\":3") == true
                }
            )
            let client = try await StreamingHTTPTestClient.get(
                port: server.localAddress.port!,
                "/sse/progress?jobId=\(job.jobId)&token=\(job.token)",
                headers: [("Last-Event-ID", "2")]
            )
            // The replay starts right after the id the client sent; keep-alive comments arrive every ping interval
            // (100 ms) between the messages.
            #expect(await Eventually.wait { (try? self.messages(self.events(client)).count) ?? 0 >= 6 })
            let seqs = try self.messages(self.events(client)).map(\.seq)
            #expect(seqs.first == 3)
            #expect(seqs == Array(3..<(3 + seqs.count)), "no gap and no repeat")
            #expect(await Eventually.wait { (try? self.events(client).filter(\.hasComment).count) ?? 0 >= 2 })
            #expect(events.all.contains { $0.kind == .eventStreamOpened(lastSeq: 2, lastEventId: "2") })
            await client.close()
            #expect(
                await Eventually.wait {
                    events.all.contains { $0.kind == .eventStreamClosed(reason: "client disconnected") }
                },
                "\(events.all.map(\.kind).filter { if case .eventStreamClosed = $0 { true } else { false } })"
            )
        }
    }

    @Test func theServersIdleTimeoutDoesNotCutAStreamItIsWriting() async throws {
        // The client says nothing after its request: the server's read-idle timeout (300 ms here) is for silent
        // connections, not for a stream the server is still writing.
        var configuration = fastServer
        configuration.idleTimeout = .milliseconds(300)
        try await withReferenceServer(configuration) { server, events in
            let job = server.createJob(JobCreation(totalItems: 10, itemInterval: .milliseconds(100)))
            let client = try await StreamingHTTPTestClient.get(
                port: server.localAddress.port!,
                "/sse/progress?jobId=\(job.jobId)&token=\(job.token)"
            )
            #expect(await Eventually.wait { client.received.closed })
            #expect(try self.messages(self.events(client)).map(\.seq) == Array(1...10))
            #expect(events.all.contains { $0.kind == .eventStreamClosed(reason: "job completed") })
        }
    }

    @Test func aLastEventIdThatIsNoSequenceNumberReplaysEverything() async throws {
        #expect(EventStreamStateMachine.sequenceNumber(nil) == 0)
        #expect(EventStreamStateMachine.sequenceNumber(" 12 ") == 12)
        #expect(EventStreamStateMachine.sequenceNumber("-3") == 0)
        #expect(EventStreamStateMachine.sequenceNumber("abc") == 0)
    }

    @Test func aRestartEndsTheStreamAndRefusesNewOnesForTheDowntime() async throws {
        try await withReferenceServer { server, events in
            let job = server.createJob(JobCreation(totalItems: 100, itemInterval: .milliseconds(50)))
            let port = server.localAddress.port!
            let path = "/sse/progress?jobId=\(job.jobId)&token=\(job.token)"
            let client = try await StreamingHTTPTestClient.get(port: port, path)
            #expect(await Eventually.wait { (try? self.messages(self.events(client)).count) ?? 0 >= 1 })
            server.restartStreams(downtime: .seconds(2))
            #expect(await Eventually.wait { client.received.closed })
            #expect(client.received.ended)
            #expect(events.all.contains { $0.kind == .eventStreamClosed(reason: "service restart") })
            let refused = try await APIClient(port: port).request("GET", path)
            #expect(refused.status == 503)
            #expect(refused.error?.error == "service_unavailable")
        }
    }

    @Test func refusesWithJSONErrors() async throws {
        try await withReferenceServer { server, _ in
            let job = server.createJob(JobCreation(totalItems: 50, itemInterval: .milliseconds(50)))
            let api = APIClient(port: server.localAddress.port!)
            let noToken = try await api.request("GET", "/sse/progress?jobId=\(job.jobId)")
            #expect(noToken.status == 401)
            let unknown = try await api.request("GET", "/sse/progress?jobId=job-nope&token=\(job.token)")
            #expect(unknown.status == 404)
            let noJob = try await api.request("GET", "/sse/progress?token=\(job.token)")
            #expect(noJob.status == 400)
            #expect(noJob.error?.message.contains("jobId") == true)
            let post = try await api.request("POST", "/sse/progress?jobId=\(job.jobId)&token=\(job.token)", body: "{}")
            #expect(post.status == 405)
        }
    }

    @Test func blocksAreWhatTheSimulatorCounts() {
        let message = ProgressMessage(
            type: .progress,
            jobId: "job-1",
            seq: 7,
            timestamp: 1_000,
            data: ProgressData(progress: 0.7, processedItems: 7, totalItems: 10, currentStatus: "working")
        )
        let text = String(decoding: EventStreamStateMachine.Block.message(message).bytes, as: UTF8.self)
        #expect(text.hasPrefix("id: 7\ndata: {"))
        #expect(text.hasSuffix("}\n\n"))
        #expect(EventStreamStateMachine.Block.keepAlive.bytes == Array(": keep-alive\n\n".utf8))
        #expect(EventStreamStateMachine.Block.retry(milliseconds: 1500).bytes == Array("retry: 1500\n\n".utf8))
    }
}
