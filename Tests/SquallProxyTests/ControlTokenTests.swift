import Foundation
import NIOHTTP1
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

/// Bearer-token auth on the control API, as Toxiproxy 2.13 has it: every endpoint answers 401 with a JSON body
/// without the right `Authorization: Bearer` header.
@Suite struct ControlTokenTests {
    private static let secret = "s3cr3t-t0ken-for-tests"

    /// Every endpoint, with a request that succeeds when authorised.
    private static let endpoints: [(method: String, path: String, body: String?, success: Int)] = [
        ("GET", "/version", nil, 200),
        ("GET", "/metrics", nil, 200),
        ("GET", "/proxies", nil, 200),
        ("POST", "/proxies", #"{"name": "b", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}"#, 201),
        ("POST", "/populate", #"[{"name": "c", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}]"#, 201),
        ("GET", "/proxies/a", nil, 200),
        ("POST", "/proxies/a", #"{"enabled": true}"#, 200),
        ("POST", "/proxies/a/toxics", #"{"name": "slow", "type": "latency"}"#, 200),
        ("GET", "/proxies/a/toxics", nil, 200),
        ("GET", "/proxies/a/toxics/slow", nil, 200),
        ("POST", "/proxies/a/toxics/slow", #"{"attributes": {"latency": 5}}"#, 200),
        ("DELETE", "/proxies/a/toxics/slow", nil, 204),
        ("GET", "/proxies/a/connections", nil, 200),
        ("POST", "/proxies/a/handoff", #"{"blackout": "1ms"}"#, 200),
        ("POST", "/handoff", #"{"blackout": "1ms"}"#, 200),
        ("POST", "/reset", nil, 204),
        ("DELETE", "/proxies/b", nil, 204),
    ]

    @Test func everyEndpointAnswers401WithoutTheTokenAnd2xxWithIt() async throws {
        let api = try await ControlAPIHarness.start(token: ControlToken(Self.secret))
        _ = try await api.createProxyAuthorised("a", token: Self.secret)
        for endpoint in Self.endpoints {
            for headers in [[:], ["Authorization": "Bearer wrong"], ["Authorization": "Basic \(Self.secret)"]] {
                let refused = try await api.request(endpoint.method, endpoint.path, endpoint.body, headers: headers)
                #expect(refused.status == 401, "\(endpoint.method) \(endpoint.path) with \(headers)")
                #expect(refused.json?["status"] == .number(401), "a JSON body: \(refused.body)")
                #expect(refused.headers["www-authenticate"] == "Bearer realm=\"squall\"")
                #expect(!refused.body.contains(Self.secret))
            }
            let allowed = try await api.request(
                endpoint.method,
                endpoint.path,
                endpoint.body,
                headers: ["Authorization": "Bearer \(Self.secret)"]
            )
            #expect(allowed.status == endpoint.success, "\(endpoint.method) \(endpoint.path): \(allowed.body)")
            #expect(!allowed.body.contains(Self.secret))
        }
        // The scheme is case-insensitive, as RFC 7235 has it.
        let lower = try await api.request("GET", "/version", headers: ["Authorization": "bearer \(Self.secret)"])
        #expect(lower.status == 200)
        await api.stop()
    }

    @Test func withoutATokenEveryEndpointIsOpenAsBefore() async throws {
        let api = try await ControlAPIHarness.start()
        #expect(try await api.request("GET", "/version").status == 200)
        #expect(try await api.request("GET", "/metrics").status == 200)
        await api.stop()
    }

    @Test func anEmptyTokenIsNoToken() {
        #expect(ControlToken("") == nil)
        #expect("\(ControlToken(Self.secret)!)" == "<token, \(Self.secret.utf8.count) bytes>", "never printed")
    }

    @Test func theComparisonIsRightForEveryLengthAndByte() {
        let expected = Array("abcdef".utf8)
        #expect(ControlToken.constantTimeEqual(expected, expected))
        #expect(!ControlToken.constantTimeEqual(Array("abcdeg".utf8), expected))
        #expect(!ControlToken.constantTimeEqual(Array("abcde".utf8), expected), "a prefix is not the token")
        #expect(!ControlToken.constantTimeEqual(Array("abcdefg".utf8), expected), "nor is a longer value")
        #expect(!ControlToken.constantTimeEqual([], expected))
        #expect(!ControlToken.constantTimeEqual(Array("bbcdef".utf8), expected))
    }

    @Test func theComparisonTakesAsLongWhereverTheFirstWrongByteIs() {
        // An early-exit comparison of a 256 KiB token is thousands of times faster when the first byte is wrong
        // than when the last one is; this one walks the whole token either way. Generous bound: within 3×.
        let expected = [UInt8](repeating: 0x61, count: 1 << 18)
        var firstWrong = expected
        firstWrong[0] = 0x62
        var lastWrong = expected
        lastWrong[lastWrong.count - 1] = 0x62
        func median(_ offered: [UInt8]) -> Double {
            var times: [Double] = []
            for _ in 0..<15 {
                let start = ContinuousClock.now
                precondition(!ControlToken.constantTimeEqual(offered, expected))
                times.append(Double(start.duration(to: .now) / .nanoseconds(1)))
            }
            return times.sorted()[7]
        }
        let (first, last) = (median(firstWrong), median(lastWrong))
        #expect(max(first, last) / min(first, last) < 3, "first byte wrong: \(first) ns, last: \(last) ns")
    }
}

extension ControlAPIHarness {
    /// Creates a proxy through an API that requires `token`.
    fileprivate func createProxyAuthorised(_ name: String, token: String) async throws -> Int {
        let answer = try await self.request(
            "POST",
            "/proxies",
            #"{"name": "\#(name)", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}"#,
            headers: ["Authorization": "Bearer \(token)"]
        )
        #expect(answer.status == 201)
        return 0
    }
}
