import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer
import SquallScenarios
import SquallSimulation
import Testing

/// The typed event vocabulary: every event Squall writes decodes back to what was written, and whole runs (real and
/// simulated) hold nothing the decoder does not know.
@Suite struct RunEventTests {
    /// Every runner event, once.
    static let runnerEvents: [RunnerEvent] = [
        .scenario(RunHeader([("name", .string("s")), ("seed", .number(1)), ("timeScale", .number(0.5))])),
        .clientStarted(client: "a-1", group: "a", strategy: "resilient", jobId: "job-1"),
        .clientFailedToStart(client: "a-2", reason: "no job"),
        .clientProcess(client: "a-1", pid: 42, command: "python3 c.py"),
        .clientExited(client: "a-1", status: "exited(0)", finished: true, early: false),
        .clientTerminated(client: "a-1", reason: "still running when the run ended", finished: false),
        .clientKilled(client: "a-1", reason: "ignored SIGTERM"),
        .clientOutputMalformed(client: "a-1", line: 3, reason: "no \"event\" string", text: "{}"),
        .faultApplied(
            at: "2s",
            step: "timeline-0.latency",
            name: "slow",
            type: "latency",
            direction: "downstream",
            toxicity: 0.5,
            groups: ["a"],
            fault: .object(["type": .string("latency")])
        ),
        .faultNotApplied(at: "2s", name: "slow", errors: ["a: refused"], fault: .object(["type": .string("latency")])),
        .faultNotApplied(at: "3s", name: "profile lte", errors: ["a: refused"], fault: nil),
        .faultLifted(name: "slow", connectionsHit: 3, healing: true),
        .handoff(at: "4s", step: "h", mode: "fin", blackout: "2s", to: "lte", groups: ["a", "b"], connectionsCut: 5),
        .handoff(at: "4s", step: "h", mode: "reset", blackout: "0s", to: nil, groups: ["a"], connectionsCut: 0),
        .profile(at: "5s", step: "p", profile: "nlc-3g", groups: ["a"]),
        .profile(at: "6s", step: "p", profile: nil, groups: ["a"]),
        .clientsSuspended(at: "7s", step: "s", clients: ["a-1"], lasting: "3s"),
        .serverRestart(at: "8s", step: "r", downtime: "1s"),
        .serverStarted(command: "node server.js", pid: 7, url: "http://127.0.0.1:9"),
        .serverReady(url: "http://127.0.0.1:9", readyPath: "/", status: 200),
        .serverExited(status: "exited(1)", early: true),
        .publicationsUnknown(jobId: "job-1", status: 404, reason: "HTTP 404"),
        .publicationsUnknown(jobId: "job-1", status: nil, reason: "request timed out"),
        .harnessLag(
            lagMs: ["executor": [0.1, 2.5], "loop-0": [0.2]],
            writerBacklog: 4,
            cpu: 0.25,
            machineCpu: 0.5,
            appCpu: ["1234": 0.75],
            residentMB: 57.3
        ),
        .harnessLag(lagMs: [:], writerBacklog: 0, cpu: 0, machineCpu: nil, appCpu: [:], residentMB: nil),
        .runEnded(reason: "all clients finished", interrupted: false),
    ]

    @Test func everyRunnerEventReadsBackAsWritten() throws {
        #expect(Set(Self.runnerEvents.map(\.name)) == Set(RunEventName.allCases), "one of each name")
        for event in Self.runnerEvents {
            let line = EventRecord(run: event.name, event.fields, time: 1_000).jsonLine
            let decoded = RunEvent(try EventRecord(line: Array(line.utf8)))
            guard case .run(let read) = decoded else {
                Issue.record("\(line) decoded as \(decoded)")
                continue
            }
            // The header is read back in key order; every other event in its own.
            if case .scenario(let header) = event, case .scenario(let readHeader) = read {
                #expect(
                    Dictionary(uniqueKeysWithValues: header.fields)
                        == Dictionary(uniqueKeysWithValues: readHeader.fields)
                )
            } else {
                #expect(read == event, "\(line)")
            }
        }
    }

    @Test func everyClientAndServerEventReadsBackAsWritten() throws {
        let kinds: [ClientEvent.Kind] = [
            .connectAttempt(attempt: 2, probe: true), .connected(attempt: 0, probe: false, via: .websocket),
            .connected(attempt: 1, probe: true, via: .sse),
            .connectFailed(reason: "connection refused"), .closed(code: 1012, reason: "server restart"),
            .closed(code: nil, reason: "connection lost"), .reconnectAttempt(attempt: 1, delayMs: 1_234.5),
            .fallback(reason: "upgrade rejected: HTTP 403"), .poll(status: 200, messages: 3, error: nil),
            .poll(status: nil, messages: 0, error: "request timed out"),
            .stateSync(attempt: 1, status: 503, messages: 0, error: "HTTP 503"), .recovered,
            .delivered(seq: 7, via: .polling, latencyMs: 12.5, type: .complete), .duplicateDropped(seq: 7),
            .finished(outcome: .failed), .stopped(reason: "client stopped"), .suspended(forMs: 2_000), .resumed,
        ]
        for kind in kinds {
            let event = ClientEvent(time: 1_000.5, clientId: "a-1", jobId: "job-1", kind: kind)
            #expect(RunEvent(try EventRecord(line: Array(event.jsonLine.utf8))) == .client(event), "\(event.jsonLine)")
        }
        let serverKinds: [ReferenceServerEvent.Kind] = [
            .jobCreated(totalItems: 20, itemInterval: .milliseconds(250)), .published(seq: 3, type: .progress),
            .streamOpened(lastSeq: 2), .streamClosed(reason: "client disconnected"),
            .eventStreamOpened(lastSeq: 4, lastEventId: "4"), .eventStreamOpened(lastSeq: 0, lastEventId: nil),
            .eventStreamClosed(reason: "job completed"), .stateServed(since: 1, messages: 2), .jobExpired,
        ]
        for kind in serverKinds {
            let event = ReferenceServerEvent(time: 2_000.25, jobId: "job-1", kind: kind)
            #expect(RunEvent(try EventRecord(line: Array(event.jsonLine.utf8))) == .server(event), "\(event.jsonLine)")
        }
    }

    @Test func anExternalClientsSparseLineIsReadWithTheContractsDefaults() throws {
        let line = #"{"time":5,"source":"client","client":"x-1","event":"delivered","jobId":"j","seq":4}"#
        #expect(
            RunEvent(try EventRecord(line: Array(line.utf8)))
                == .client(
                    ClientEvent(
                        time: 5,
                        clientId: "x-1",
                        jobId: "j",
                        kind: .delivered(seq: 4, via: .websocket, latencyMs: 0, type: .progress)
                    )
                )
        )
        let unknown = #"{"time":5,"source":"client","client":"x-1","event":"teleported"}"#
        #expect(RunEvent(try EventRecord(line: Array(unknown.utf8))) == .unknown(source: "client", name: "teleported"))
    }

    @Test func aSimulatedRunHoldsOnlyEventsTheDecoderKnows() throws {
        let scenario = try Scenario(
            bytes: Array(
                #"""
                {"name": "all", "duration": "40s", "server": {"job": {"totalItems": 60, "itemInterval": "500ms"}},
                 "clients": [{"name": "a", "count": 3}, {"name": "b", "count": 2, "strategy": "lume-chat"}],
                 "timeline": [{"at": "2s", "for": "3s", "fault": {"type": "latency", "attributes": {"latency": 50}}},
                              {"at": "6s", "handoff": {"mode": "fin", "blackout": "1s"}},
                              {"at": "9s", "for": "2s", "target": {"clients": 0.5}, "action": "suspend"},
                              {"at": "12s", "for": "1s", "action": "server_restart"},
                              {"at": "14s", "for": "3s", "profile": "nlc-3g"},
                              {"at": "18s", "for": "4s", "fault": {"type": "block_upgrade", "attributes": {"mode": "reject"}}}]}
                """#
                .utf8
            )
        )
        let record = try SimulationRunner(scenario: scenario).run()
        var names: Set<String> = []
        for line in record.records {
            let event = RunEvent(line)
            if case .unknown(let source, let name) = event { Issue.record("unknown \(source) event \(name)") }
            names.insert("\(line.source).\(line.event)")
        }
        for expected in [
            "run.scenario", "run.client_started", "run.fault_applied", "run.fault_lifted", "run.handoff",
            "run.clients_suspended", "run.server_restart", "run.profile", "run.run_ended", "server.job_created",
            "server.published", "server.stream_opened", "server.stream_closed", "client.connect_attempt",
            "client.connected", "client.closed", "client.delivered", "client.finished",
        ] {
            #expect(names.contains(expected), "\(expected) in \(names.sorted())")
        }
    }
}
