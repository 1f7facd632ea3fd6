/// Keeps a client's HTTP/1.1 exchanges in the order it sent its requests, when some are answered by the server and
/// some by the proxy itself (`fail_requests`, `block_upgrade` `reject`).
///
/// HTTP/1.1 answers pipelined requests in order. The proxy therefore takes them one at a time, as nginx does: a
/// request goes to the server only once the server has answered the one before it, and the proxy's own answer goes
/// out only once no server answer is still due. Whatever the client sent after an entry that must wait (requests,
/// bytes, its FIN) waits behind it. A client that waits for each answer before its next request never waits here.
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

    /// Whether a request went to the server and its answer has not ended yet.
    private(set) var awaitingServerAnswer = false
    /// Entries behind the exchange in progress, in the order the client sent what they stand for.
    private var waiting: [Entry] = []

    /// Whether anything waits for the server's answer.
    var isHolding: Bool { !self.waiting.isEmpty }

    /// An item left the upstream message chain: returns true when it goes on at once (the common case, which
    /// allocates nothing), or false when it waits and will come back as a ``Action/forward(_:)``.
    mutating func upstreamItemPasses(_ item: StreamItem) -> Bool {
        if case .end(let end) = item, end != .finished {
            // The client is gone (closed or reset), so no answer will reach it: what waited is dropped and its end
            // goes on at once (waiting for an answer nobody reads would keep the server's socket open for good).
            self.waiting.removeAll()
            self.awaitingServerAnswer = false
            return true
        }
        guard self.waiting.isEmpty, !self.awaitingServerAnswer else {
            self.waiting.append(.upstream(item))
            return false
        }
        if case .data(_, _, .request) = item {
            self.awaitingServerAnswer = true
        }
        return true
    }

    /// The proxy answers a request itself, in that request's place.
    mutating func proxyAnswer(_ answer: ProxyAnswer, closes: Bool) -> [Action] {
        self.waiting.append(.answer(answer, closes: closes))
        return self.release()
    }

    /// The server's answer to the request in progress ended (or it switched protocols: no answer is due any more).
    mutating func serverAnswerEnded() -> [Action] {
        self.awaitingServerAnswer = false
        return self.release()
    }

    /// Everything that may go now, in order.
    private mutating func release() -> [Action] {
        var actions: [Action] = []
        var released = 0
        for entry in self.waiting {
            if self.awaitingServerAnswer { break }
            switch entry {
            case .upstream(let item):
                if case .data(_, _, .request) = item {
                    self.awaitingServerAnswer = true
                }
                actions.append(.forward(item))
            case .answer(let answer, let closes):
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
