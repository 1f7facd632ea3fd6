import Foundation
import NIOCore
import NIOWebSocket
import SquallBenchmarks
import SquallReferenceProtocol
import SquallReferenceServer
import SquallTestSupport
import Testing

/// The job-progress server's HTTP and WebSocket contract, observed by real clients.
@Suite struct ReferenceServerTests {
    @Test func createsAJobThatPublishesEveryItemThenCompletes() async throws {
        try await withReferenceServer { server, events in
            let api = APIClient(port: server.localAddress.port!)
            let created = try await api.request(
                "POST",
                "/api/jobs",
                body: #"{"totalItems": 4, "itemInterval": "20ms"}"#
            )
            #expect(created.status == 201)
            let job = try ProtocolJSON.decode(JobCreation.Created.self, from: created.body.utf8)
            #expect(await Eventually.wait { events.all.contains { $0.kind == .published(seq: 4, type: .complete) } })
            let state = try await api.request(
                "GET",
                "/api/job-state/\(job.jobId)?since=1",
                headers: ["Authorization": "Bearer \(job.token)"]
            )
            #expect(state.status == 200)
            let decoded = try ProtocolJSON.decode(JobState.self, from: state.body.utf8)
            #expect(decoded.status == .completed)
            #expect(decoded.lastSeq == 4)
            #expect(decoded.messages.map(\.seq) == [2, 3, 4], "only messages after since")
            #expect(decoded.messages.map(\.type) == [.progress, .progress, .complete])
            #expect(decoded.messages.last?.data.processedItems == 4)
            let published = events.all.compactMap { if case .published(let seq, _) = $0.kind { seq } else { nil } }
            #expect(published == [1, 2, 3, 4], "one published event per message, in order")
            let byQuery = try await api.request("GET", "/api/job-state/\(job.jobId)?token=\(job.token)")
            #expect(byQuery.status == 200, "the token may come as a query parameter")
        }
    }

    @Test func refusesWithJSONErrors() async throws {
        try await withReferenceServer { server, _ in
            let api = APIClient(port: server.localAddress.port!)
            let job = server.createJob(JobCreation(totalItems: 50, itemInterval: .milliseconds(50)))
            let other = server.createJob(JobCreation(totalItems: 50, itemInterval: .milliseconds(50)))
            let bearer = ["Authorization": "Bearer \(job.token)"]

            let missing = try await api.request("GET", "/api/job-state/\(job.jobId)")
            #expect(missing.status == 401)
            #expect(missing.error?.error == "unauthorized")
            let wrong = try await api.request(
                "GET",
                "/api/job-state/\(job.jobId)",
                headers: ["Authorization": "Bearer \(other.token)"]
            )
            #expect(wrong.status == 401, "another job's token")
            let probe = try await api.request(
                "GET",
                "/api/job-state/job-nope",
                headers: ["Authorization": "Bearer not-a-token"]
            )
            #expect(probe.status == 401, "a wrong token on an unknown job is 401, so ids cannot be probed")
            let unknown = try await api.request("GET", "/api/job-state/job-nope", headers: bearer)
            #expect(unknown.status == 404)
            #expect(unknown.error?.error == "not_found")
            let badSince = try await api.request("GET", "/api/job-state/\(job.jobId)?since=-3", headers: bearer)
            #expect(badSince.status == 400)
            #expect(badSince.error?.message.contains("since") == true)
            let badJSON = try await api.request("POST", "/api/jobs", body: "{not json")
            #expect(badJSON.status == 400)
            let badField = try await api.request("POST", "/api/jobs", body: #"{"totalItems": 0}"#)
            #expect(badField.status == 400)
            #expect(badField.error?.message.hasPrefix("totalItems:") == true)
            let unknownField = try await api.request("POST", "/api/jobs", body: #"{"items": 3}"#)
            #expect(unknownField.error?.message.hasPrefix("items: unknown field") == true)
            let badInterval = try await api.request("POST", "/api/jobs", body: #"{"itemInterval": 250}"#)
            #expect(badInterval.status == 400)
            #expect(badInterval.error?.message.hasPrefix("itemInterval:") == true)
            let method = try await api.request("DELETE", "/api/jobs")
            #expect(method.status == 405)
            #expect(method.headers["allow"] == "POST")
            let noEndpoint = try await api.request("GET", "/nothing/here")
            #expect(noEndpoint.status == 404)
            let notUpgraded = try await api.request("GET", "/ws/progress?jobId=\(job.jobId)", headers: bearer)
            #expect(
                notUpgraded.status == 426,
                "a plain GET on the stream endpoint (e.g. an upgrade stripped by a proxy)"
            )
            let noJobId = try await api.request("GET", "/ws/progress", headers: bearer)
            #expect(noJobId.status == 400)
            let health = try await api.request("GET", "/healthz")
            #expect(health.status == 200)
        }
    }

    @Test(arguments: [
        "GARBAGE\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n",
    ])
    func malformedHTTPGetsA400WithAJSONBodyAndTheConnectionClosed(request: String) async throws {
        try await withReferenceServer { server, _ in
            let port = server.localAddress.port!
            let (bytes, end) = try await blocking {
                let socket = try BlockingSocket(port: port)
                try socket.send(request)
                return socket.readToEnd(timeout: 5)
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let last = text.components(separatedBy: "HTTP/1.1 ").last ?? ""
            #expect(last.hasPrefix("400"), "\(text)")
            #expect(last.contains("\"error\":\"bad_request\""), "a JSON body: \(text)")
            #expect(last.lowercased().contains("connection: close"), "\(text)")
            #expect(end == .endOfFile, "and the connection is closed")
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await withReferenceServer { server, _ in
            let port = server.localAddress.port!
            let (bytes, end) = try await blocking {
                let socket = try BlockingSocket(port: port)
                try socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return socket.readToEnd(timeout: 5)
            }
            #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            #expect(end == .endOfFile)
        }
    }

    @Test(arguments: [
        (#"{"itemInterval": "0"}"#, "itemInterval"),
        (#"{"itemInterval": "-1s"}"#, "itemInterval"),
        (#"{"itemInterval": "2h"}"#, "itemInterval"),
        (#"{"failAfterItems": 30}"#, "failAfterItems"),
        (#"{"totalItems": 5, "failAfterItems": 6}"#, "failAfterItems"),
        (#"{"failAfterItems": 0}"#, "failAfterItems"),
        (#"{"totalItems": 1.5}"#, "totalItems"),
        (#"{"totalItems": "5"}"#, "totalItems"),
        (#"{"totalItems": 1e20}"#, "totalItems"),
        (#"{"totalItems": 5,}"#, "trailing comma"),
        (#"{"totalItems": 5, "totalItems": 6}"#, "appears twice"),
        ("[]", "JSON object"),
        ("null", "JSON object"),
    ])
    func invalidJobBodiesAreRefusedNamingTheField(body: String, named: String) async throws {
        try await withReferenceServer { server, _ in
            let api = APIClient(port: server.localAddress.port!)
            let answer = try await api.request("POST", "/api/jobs", body: body)
            #expect(answer.status == 400, "\(body)")
            #expect(answer.error?.message.contains(named) == true, "\(body): \(answer.error?.message ?? "no message")")
        }
    }

    @Test func anHourLongItemIntervalIsAccepted() async throws {
        try await withReferenceServer { server, _ in
            let api = APIClient(port: server.localAddress.port!)
            let answer = try await api.request("POST", "/api/jobs", body: #"{"itemInterval": "1h", "totalItems": 2}"#)
            #expect(answer.status == 201)
        }
    }

    @Test func refusedUpgradesAreAnsweredWithTheirStatus() async throws {
        try await withReferenceServer { server, _ in
            let port = server.localAddress.port!
            let job = server.createJob(JobCreation(totalItems: 50, itemInterval: .milliseconds(50)))
            for (uri, status) in [
                ("/ws/progress?jobId=\(job.jobId)", 401),
                ("/ws/progress?jobId=\(job.jobId)&token=wrong", 401),
                ("/ws/progress?jobId=job-unknown&token=\(job.token)", 404),
                ("/ws/progress?token=\(job.token)", 400),
            ] {
                let answer = try await blocking {
                    let client = try BlockingWebSocketClient(port: port)
                    try client.sendUpgrade(uri: uri)
                    return client.readResponse()
                }
                #expect(answer?.status == status, "\(uri)")
                #expect(answer?.body.contains("\"error\"") == true, "\(uri): JSON error body")
            }
        }
    }

    @Test func streamsAfterReadyReplaysFromLastSeqAndClosesNormally() async throws {
        try await withReferenceServer { server, _ in
            let port = server.localAddress.port!
            let job = server.createJob(JobCreation(totalItems: 6, itemInterval: .milliseconds(30)))
            try await Task.sleep(for: .milliseconds(120))
            let texts = try await blocking {
                let client = try BlockingWebSocketClient(port: port)
                #expect(try client.upgrade(uri: "/ws/progress?jobId=\(job.jobId)&token=\(job.token)") == 101)
                try client.send(.text, #"{"type":"ready","lastSeq":2}"#)
                var texts: [String] = []
                var closeCode: Int?
                loop: while true {
                    switch client.nextEvent(timeout: 5) {
                    case .text(let text): texts.append(text)
                    case .ping: try client.send(.pong)
                    case .close(let code):
                        closeCode = code
                        break loop
                    case .pong, .endOfFile, .reset, .timedOut: break loop
                    }
                }
                #expect(closeCode == 1000, "the job's end closes normally")
                return texts
            }
            let ack = try ProtocolJSON.decode(HandshakeMessage.self, from: texts[0].utf8)
            #expect(ack.type == .readyAck)
            #expect(ack.jobId == job.jobId)
            let seqs = texts.dropFirst().compactMap {
                try? ProtocolJSON.decode(ProgressMessage.self, from: $0.utf8).seq
            }
            #expect(seqs == [3, 4, 5, 6], "everything after lastSeq 2, replayed then live, no gaps")
        }
    }

    @Test func closesAClientThatStopsAnsweringPings() async throws {
        try await withReferenceServer { server, events in
            let port = server.localAddress.port!
            let job = server.createJob(JobCreation(totalItems: 1_000, itemInterval: .seconds(1)))
            let (pings, code) = try await blocking {
                let client = try BlockingWebSocketClient(port: port)
                _ = try client.upgrade(uri: "/ws/progress?jobId=\(job.jobId)&token=\(job.token)")
                try client.send(.text, #"{"type":"ready","lastSeq":0}"#)
                var pings = 0
                while true {
                    switch client.nextEvent(timeout: 5) {
                    case .ping: pings += 1
                    case .text: continue
                    case .close(let code): return (pings, code)
                    case .pong, .endOfFile, .reset, .timedOut: return (pings, 0)
                    }
                }
            }
            #expect(pings >= 2, "pinged every 100 ms before giving up at 400 ms")
            #expect(code == 1001)
            #expect(await Eventually.wait { events.all.contains { $0.kind == .streamClosed(reason: "pong timeout") } })
        }
    }

    @Test func closesAStreamWhoseFirstMessageIsNotReady() async throws {
        try await withReferenceServer { server, _ in
            let port = server.localAddress.port!
            let job = server.createJob(JobCreation(totalItems: 10, itemInterval: .seconds(1)))
            let event = try await blocking {
                let client = try BlockingWebSocketClient(port: port)
                _ = try client.upgrade(uri: "/ws/progress?jobId=\(job.jobId)&token=\(job.token)")
                try client.send(.text, "hello")
                return client.nextEvent(timeout: 5)
            }
            #expect(event == .close(code: 1008))
        }
    }

    /// Frames a client may not send (RFC 6455), each answered with close code 1002.
    private static let violations: [(name: String, frame: WebSocketFrame)] = {
        func close(_ bytes: [UInt8]) -> WebSocketFrame {
            WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: ByteBuffer(bytes: bytes))
        }
        return [
            ("unmasked", WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "{}"))),
            (
                "reserved opcode",
                WebSocketFrame(
                    fin: true,
                    opcode: WebSocketOpcode(encodedWebSocketOpcode: 0x3)!,
                    maskKey: .random(),
                    data: ByteBuffer()
                )
            ),
            (
                "reserved bit",
                WebSocketFrame(fin: true, rsv1: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: "{}"))
            ),
            ("close code 999", close([0x03, 0xE7])),
            ("close code 1005", close([0x03, 0xED])),
            ("one-byte close", close([0x03])),
        ]
    }()

    @Test(arguments: 0..<6)
    func protocolViolationsCloseWith1002(index: Int) async throws {
        let (name, frame) = Self.violations[index]
        try await withReferenceServer { server, events in
            let port = server.localAddress.port!
            let job = server.createJob(JobCreation(totalItems: 10, itemInterval: .seconds(1)))
            let event = try await blocking {
                let client = try BlockingWebSocketClient(port: port)
                _ = try client.upgrade(uri: "/ws/progress?jobId=\(job.jobId)&token=\(job.token)")
                try client.send(frame)
                var event = client.nextEvent(timeout: 5)
                while event == .ping { event = client.nextEvent(timeout: 5) }
                return event
            }
            #expect(event == .close(code: 1002), "\(name)")
            #expect(
                await Eventually.wait {
                    events.all.contains {
                        if case .streamClosed(let reason) = $0.kind {
                            reason.contains("protocol violation")
                        } else {
                            false
                        }
                    }
                },
                "\(name): \(events.all.map(\.kind))"
            )
        }
    }

    @Test func keepsFinishedJobsForTheRetentionThenForgetsThem() async throws {
        var configuration = fastServer
        configuration.retention = .milliseconds(300)
        try await withReferenceServer(configuration) { server, events in
            let api = APIClient(port: server.localAddress.port!)
            let job = server.createJob(JobCreation(totalItems: 2, itemInterval: .milliseconds(10)))
            let bearer = ["Authorization": "Bearer \(job.token)"]
            #expect(await Eventually.wait { events.all.contains { $0.kind == .published(seq: 2, type: .complete) } })
            let late = try await api.request("GET", "/api/job-state/\(job.jobId)", headers: bearer)
            #expect(late.status == 200, "a late poller still sees the end")
            #expect(await Eventually.wait { events.all.contains { $0.kind == .jobExpired } })
            let expired = try await api.request("GET", "/api/job-state/\(job.jobId)", headers: bearer)
            #expect(expired.status == 404)
        }
    }

    @Test func aFailingJobEndsWithAnErrorMessage() async throws {
        try await withReferenceServer { server, events in
            _ = server.createJob(JobCreation(totalItems: 10, itemInterval: .milliseconds(10), failAfterItems: 3))
            #expect(await Eventually.wait { events.all.contains { $0.kind == .published(seq: 3, type: .error) } })
            try await Task.sleep(for: .milliseconds(100))
            #expect(!events.all.contains { $0.kind == .published(seq: 4, type: .progress) }, "nothing after the error")
        }
    }

    @Test(arguments: [
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13",  // no key
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99",
        "Upgrade: h2c\r\nConnection: Upgrade",
    ])
    func malformedOrForeignUpgradesAreAnsweredWithJSONAndClosed(headers: String) async throws {
        try await withReferenceServer { server, _ in
            let job = server.createJob(JobCreation(totalItems: 2))
            let (text, end) = try await blocking {
                let socket = try BlockingSocket(port: server.localAddress.port ?? 0)
                try socket.send(
                    "GET /ws/progress?jobId=\(job.jobId)&token=\(job.token) HTTP/1.1\r\nHost: x\r\n\(headers)\r\n\r\n"
                )
                let read = socket.readToEnd(timeout: 5)
                return (String(decoding: read.bytes, as: UTF8.self), read.end)
            }
            let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
            #expect((400..<500).contains(status), "\(text)")
            #expect(text.contains("Content-Type: application/json"), "\(text)")
            #expect(text.contains(#""error""#), "a JSON error body: \(text)")
            #expect(end == .endOfFile, "and the connection is closed")
        }
    }
}
