/// Keeps a client's HTTP/1.1 exchanges in the order it sent its requests, when some are answered by the server and
/// some by the proxy itself (`fail_requests`, `block_upgrade` `reject`).
///
/// HTTP/1.1 answers pipelined requests in order. Requests go on to the server as they come (the server answers
/// them in order); the proxy's own answer goes out only once the server has answered every request sent before
/// it, and a request the client sent after that answer waits until it is out — so the server's answer to it
/// follows. The client's half-close follows the requests before it and waits for no answer. A client that waits
/// for each answer before its next request never waits here.
///
/// A value: the connection feeds it events and performs the actions it returns.
struct PipelinedExchanges {
    /// What the connection does next.
    enum Action {
        /// Send an upstream item on toward the server (a request, or anything the client sent) and flush it: it
        /// was released by another socket's read (the server's answer), and no read of the client's will complete
        /// to flush it.
        case forward(StreamItem)
        /// Send the proxy's own answer to the client (then close, when `closes`).
        case answer(ProxyAnswer, closes: Bool)
    }

    private enum Entry {
        case upstream(StreamItem)
        case answer(ProxyAnswer, closes: Bool)
    }

    /// Requests sent to the server whose answers have not ended yet.
    private(set) var unansweredRequests = 0
    /// What waits behind a proxy answer, in the order the client sent what it stands for.
    private var waiting: [Entry] = []

    /// Whether anything waits.
    var isHolding: Bool { !self.waiting.isEmpty }

    /// An item left the upstream message chain: returns true when it goes on at once (the common case, which
    /// allocates nothing), or false when it waits behind a proxy answer and will come back as a
    /// ``Action/forward(_:)``.
    mutating func upstreamItemPasses(_ item: StreamItem) -> Bool {
        if case .end(let end) = item, end != .finished {
            // The client is gone (closed or reset), so no answer will reach it: what waited is dropped and its end
            // goes on at once (waiting for an answer nobody reads would keep the server's socket open for good).
            self.waiting.removeAll()
            self.unansweredRequests = 0
            return true
        }
        guard self.waiting.isEmpty else {
            self.waiting.append(.upstream(item))
            return false
        }
        if case .data(_, _, .request) = item {
            self.unansweredRequests += 1
        }
        return true
    }

    /// The proxy answers a request itself, in that request's place.
    mutating func proxyAnswer(_ answer: ProxyAnswer, closes: Bool) -> [Action] {
        self.waiting.append(.answer(answer, closes: closes))
        return self.release()
    }

    /// The server's answer to the oldest unanswered request ended.
    mutating func serverAnswerEnded() -> [Action] {
        self.unansweredRequests = max(0, self.unansweredRequests - 1)
        return self.release()
    }

    /// The server switched protocols: no answer is due any more.
    mutating func serverSwitched() -> [Action] {
        self.unansweredRequests = 0
        return self.release()
    }

    /// Everything that may go now, in order.
    private mutating func release() -> [Action] {
        var actions: [Action] = []
        var released = 0
        entries: for entry in self.waiting {
            switch entry {
            case .upstream(let item):
                if case .data(_, _, .request) = item {
                    self.unansweredRequests += 1
                }
                actions.append(.forward(item))
            case .answer(let answer, let closes):
                if self.unansweredRequests > 0 { break entries }
                actions.append(.answer(answer, closes: closes))
                if closes {
                    // Nothing the client sent after it will be served: the connection closes behind the answer.
                    self.waiting.removeAll()
                    return actions
                }
            }
            released += 1
        }
        self.waiting.removeFirst(released)
        return actions
    }
}
