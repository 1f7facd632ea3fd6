import Foundation
import SquallTestSupport
import Testing

/// `squall serve` and `squall client` as a user runs them.
@Suite struct ReferenceCommandTests {
    @Test func clientFollowsAJobOnTheServerAndPrintsNDJSON() async throws {
        let server = try SquallProcess(["serve", "--port", "0", "--events", "--duration", "30s"])
        var url: String?
        _ = await Eventually.wait(timeout: 20) {
            url = server.standardOutput.split(separator: "\n").first { $0.hasPrefix("job-progress server: ") }.map {
                String($0.dropFirst(21))
            }
            return url != nil
        }
        let base = try #require(url)
        let client = try await SquallProcess.run([
            "client", "--url", base, "--new-job", "--total-items", "5", "--item-interval", "20ms", "--time-scale",
            "0.1", "--client-id", "cli",
        ])
        // The same over an event stream.
        let streaming = try await SquallProcess.run([
            "client", "--url", base, "--new-job", "--total-items", "5", "--item-interval", "20ms", "--time-scale",
            "0.1", "--transports", "sse,polling",
        ])
        #expect(streaming.status == 0, "\(streaming.errors)")
        let streamed = streaming.output.split(separator: "\n").filter {
            $0.contains(#""event":"delivered""#) && $0.contains(#""via":"sse""#)
        }
        #expect(streamed.count == 5, "\(streaming.output)")
        #expect(
            streaming.output.contains(#""event":"connected","jobId""#) && streaming.output.contains(#""via":"sse"}"#)
        )
        #expect(streaming.output.contains(#""event":"closed","jobId":"#) && streaming.output.contains(#""code":null"#))
        #expect(client.status == 0, "\(client.errors)")
        let lines = client.output.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "every line is one JSON object")
        #expect(
            objects.filter { $0["event"] as? String == "delivered" }.compactMap { $0["seq"] as? Int } == [
                1, 2, 3, 4, 5,
            ]
        )
        #expect(objects.last?["event"] as? String == "finished")
        #expect(objects.last?["outcome"] as? String == "completed")
        #expect(objects.allSatisfy { $0["client"] as? String == "cli" && $0["time"] is Double })
        server.signal(SIGTERM)
        let (status, _) = await server.waitForExit()
        #expect(status == 0)
        #expect(server.standardOutput.contains(#""event":"published""#), "--events prints server events")
    }

    @Test func clientRejectsAnUnknownStrategyWith64() async throws {
        let result = try await SquallProcess.run([
            "client", "--url", "http://127.0.0.1:9", "--new-job", "--strategy", "optimistic",
        ])
        #expect(result.status == 64)
        #expect(result.errors.contains("unknown preset \"optimistic\""))
        #expect(result.errors.contains("resilient"), "names the presets")
    }

    @Test func clientRejectsABadLadderWith64() async throws {
        for (ladder, message) in [
            ("sse,carrier-pigeon", "--transports (rung 2): expected one of"),
            ("polling,sse", "nothing after \"polling\""),
            ("", "a non-empty list"),
        ] {
            let result = try await SquallProcess.run([
                "client", "--url", "http://127.0.0.1:9", "--new-job", "--transports", ladder,
            ])
            #expect(result.status == 64, "\(ladder)")
            #expect(result.errors.contains(message), "\(ladder): \(result.errors)")
        }
    }

    @Test func clientReportsAServerThatIsNotThere() async throws {
        let result = try await SquallProcess.run(["client", "--url", "http://127.0.0.1:9", "--new-job"])
        #expect(result.status == 64)
        #expect(
            result.errors.contains("could not create a job on http://127.0.0.1:9: connection refused"),
            "\(result.errors)"
        )
    }
}
