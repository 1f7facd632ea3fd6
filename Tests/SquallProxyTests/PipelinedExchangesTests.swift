import NIOCore
import NIOHTTP1
import NIOWebSocket
import Testing

@testable import SquallProxy

/// The order of a client's HTTP exchanges when the proxy answers some itself (no sockets).
@Suite struct PipelinedExchangesTests {
    private func request(_ uri: String) -> StreamItem {
        .data(
            ByteBuffer(),
            receivedAt: .now(),
            unit: .request(HTTPRequestHead(version: .http1_1, method: .GET, uri: uri))
        )
    }

    private let failed = ProxyAnswer(status: 503, message: "failed", keepAlive: true)

    /// What the actions say, in order: "→/a" forwarded, "503" answered, "503!" answered then closing, "other".
    private func describe(_ actions: [PipelinedExchanges.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .forward(.data(_, _, .request(let head))): return "→\(head.uri)"
            case .forward: return "other"
            case .answer(let answer, let closes): return "\(answer.status)\(closes ? "!" : "")"
            }
        }
    }

    @Test func requestsGoToTheServerAsTheyComeWhenTheProxyAnswersNone() {
        var exchanges = PipelinedExchanges()
        let passed = (1...3).map { exchanges.upstreamItemPasses(self.request("/\($0)")) }
        let fin = exchanges.upstreamItemPasses(.end(.finished))
        #expect(passed == [true, true, true] && fin, "pipelined to the server, as without the proxy")
        #expect(exchanges.unansweredRequests == 3)
        #expect(!exchanges.isHolding)
    }

    @Test func theProxysAnswerWaitsForTheServersAnswersBeforeIt() {
        var exchanges = PipelinedExchanges()
        let first = exchanges.upstreamItemPasses(self.request("/1"))
        // Request 2 is failed by the proxy before the server answered the first; 3 and the FIN come after it.
        let held = exchanges.proxyAnswer(self.failed, closes: false)
        let third = exchanges.upstreamItemPasses(self.request("/3"))
        let fin = exchanges.upstreamItemPasses(.end(.finished))
        #expect(first && held.isEmpty && !third && !fin)
        #expect(exchanges.isHolding)
        // The first answer ends: the proxy answers 2, then 3 and the FIN go to the server.
        let released = exchanges.serverAnswerEnded()
        #expect(self.describe(released) == ["503", "→/3", "other"])
        #expect(!exchanges.isHolding)
    }

    @Test func anAnswerBehindAnotherAnswerWaitsForTheRequestsBetween() {
        var exchanges = PipelinedExchanges()
        _ = exchanges.upstreamItemPasses(self.request("/1"))
        _ = exchanges.proxyAnswer(self.failed, closes: false)
        _ = exchanges.upstreamItemPasses(self.request("/3"))
        _ = exchanges.proxyAnswer(self.failed, closes: false)
        #expect(self.describe(exchanges.serverAnswerEnded()) == ["503", "→/3"], "the second answer waits for /3's")
        #expect(self.describe(exchanges.serverAnswerEnded()) == ["503"])
    }

    @Test func aClientThatWaitsForEachAnswerNeverWaitsHere() {
        var exchanges = PipelinedExchanges()
        let first = exchanges.upstreamItemPasses(self.request("/a"))
        #expect(first && exchanges.serverAnswerEnded().isEmpty)
        #expect(self.describe(exchanges.proxyAnswer(self.failed, closes: false)) == ["503"])
        let second = exchanges.upstreamItemPasses(self.request("/b"))
        #expect(second && !exchanges.isHolding)
    }

    @Test func nothingAfterAClosingAnswerIsServed() {
        var exchanges = PipelinedExchanges()
        _ = exchanges.upstreamItemPasses(self.request("/1"))
        _ = exchanges.proxyAnswer(ProxyAnswer(status: 403, message: "no", keepAlive: false), closes: true)
        let never = exchanges.upstreamItemPasses(self.request("/never"))
        #expect(!never)
        #expect(self.describe(exchanges.serverAnswerEnded()) == ["403!"])
        #expect(!exchanges.isHolding)
    }

    @Test func aClientThatIsGoneDoesNotWaitForAnswers() {
        // Its end (closed or reset) goes to the server at once: no answer can reach it, and the server's socket
        // must not stay open waiting for one.
        for end in [StreamItem.End.closed, .reset] {
            var exchanges = PipelinedExchanges()
            _ = exchanges.upstreamItemPasses(self.request("/1"))
            _ = exchanges.proxyAnswer(self.failed, closes: false)
            let held = exchanges.upstreamItemPasses(self.request("/3"))
            let ending = exchanges.upstreamItemPasses(.end(end))
            #expect(!held && ending)
            #expect(!exchanges.isHolding)
            #expect(exchanges.unansweredRequests == 0)
        }
    }

    @Test func aSwitchEndsEveryAnswerDue() {
        var exchanges = PipelinedExchanges()
        _ = exchanges.upstreamItemPasses(self.request("/upgrade"))
        _ = exchanges.proxyAnswer(self.failed, closes: false)
        #expect(self.describe(exchanges.serverSwitched()) == ["503"])
        #expect(exchanges.unansweredRequests == 0)
    }

    @Test func bytesThatAreNotRequestsDoNotCount() {
        var exchanges = PipelinedExchanges()
        let frame = StreamItem.data(ByteBuffer(string: "x"), receivedAt: .now(), unit: .frame(.text))
        let one = exchanges.upstreamItemPasses(frame)
        let two = exchanges.upstreamItemPasses(frame)
        #expect(one && two)
        #expect(exchanges.unansweredRequests == 0)
    }
}
