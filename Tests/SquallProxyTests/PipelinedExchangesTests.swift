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

    /// What the actions say, in order: "→/a" forwarded, "503" answered, "503!" answered then closing, "bytes".
    private func describe(_ actions: [PipelinedExchanges.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .forward(.data(_, _, .request(let head))): return "→\(head.uri)"
            case .forward: return "other"
            case .answer(let answer, let closes): return "\(answer.status)\(closes ? "!" : "")"
            }
        }
    }

    @Test func aClientThatWaitsForEachAnswerNeverWaitsHere() {
        var exchanges = PipelinedExchanges()
        let passes1 = exchanges.upstreamItemPasses(self.request("/a"))
        #expect(passes1)
        let actions2 = exchanges.serverAnswerEnded()
        #expect(self.describe(actions2).isEmpty)
        let actions3 = exchanges.proxyAnswer(self.failed, closes: false)
        #expect(self.describe(actions3) == ["503"])
        let passes4 = exchanges.upstreamItemPasses(self.request("/b"))
        #expect(passes4)
        #expect(!exchanges.isHolding)
    }

    @Test func theProxysAnswerWaitsForTheServersAnswersBeforeIt() {
        var exchanges = PipelinedExchanges()
        let passes5 = exchanges.upstreamItemPasses(self.request("/1"))
        #expect(passes5)
        // Requests 2 (failed by the proxy), 3 and 4 (failed) arrive before the server answered the first.
        let actions6 = exchanges.proxyAnswer(self.failed, closes: false)
        #expect(self.describe(actions6).isEmpty)
        let passes7 = exchanges.upstreamItemPasses(self.request("/3"))
        #expect(!passes7)
        let actions8 = exchanges.proxyAnswer(self.failed, closes: false)
        #expect(self.describe(actions8).isEmpty)
        #expect(exchanges.isHolding)
        // The first answer ends: the proxy answers 2, sends 3, and 4's answer waits for 3's.
        let actions9 = exchanges.serverAnswerEnded()
        #expect(self.describe(actions9) == ["503", "→/3"])
        let actions10 = exchanges.serverAnswerEnded()
        #expect(self.describe(actions10) == ["503"])
        #expect(!exchanges.isHolding)
    }

    @Test func requestsGoToTheServerOneAtATime() {
        var exchanges = PipelinedExchanges()
        let passes11 = exchanges.upstreamItemPasses(self.request("/1"))
        #expect(passes11)
        let passes12 = exchanges.upstreamItemPasses(self.request("/2"))
        #expect(!passes12)
        let passes13 = exchanges.upstreamItemPasses(.end(.finished))
        #expect(!passes13, "the client's FIN waits behind")
        let actions14 = exchanges.serverAnswerEnded()
        #expect(self.describe(actions14) == ["→/2"])
        let actions15 = exchanges.serverAnswerEnded()
        #expect(self.describe(actions15) == ["other"])
    }

    @Test func nothingAfterAClosingAnswerIsServed() {
        var exchanges = PipelinedExchanges()
        let passes16 = exchanges.upstreamItemPasses(self.request("/1"))
        #expect(passes16)
        _ = exchanges.proxyAnswer(ProxyAnswer(status: 403, message: "no", keepAlive: false), closes: true)
        let passes17 = exchanges.upstreamItemPasses(self.request("/never"))
        #expect(!passes17)
        let actions18 = exchanges.serverAnswerEnded()
        #expect(self.describe(actions18) == ["403!"])
        #expect(!exchanges.isHolding)
    }

    @Test func aClientThatIsGoneDoesNotWaitForAnswers() {
        // Its end (closed or reset) goes to the server at once: no answer can reach it, and the server's socket
        // must not stay open waiting for one.
        for end in [StreamItem.End.closed, .reset] {
            var exchanges = PipelinedExchanges()
            let first = exchanges.upstreamItemPasses(self.request("/1"))
            let second = exchanges.upstreamItemPasses(self.request("/2"))
            let ending = exchanges.upstreamItemPasses(.end(end))
            #expect(first && !second && ending)
            #expect(!exchanges.isHolding)
            #expect(!exchanges.awaitingServerAnswer)
        }
    }

    @Test func bytesThatAreNotRequestsDoNotWaitForAnAnswer() {
        var exchanges = PipelinedExchanges()
        let frame = StreamItem.data(ByteBuffer(string: "x"), receivedAt: .now(), unit: .frame(.text))
        let passes19 = exchanges.upstreamItemPasses(frame)
        #expect(passes19)
        let passes20 = exchanges.upstreamItemPasses(frame)
        #expect(passes20)
        #expect(!exchanges.awaitingServerAnswer)
    }
}
