/// `buffer_stream`: holds an event stream's blocks as a buffering intermediary does (nginx's `proxy_buffering`, on
/// by default): once `bytes` are held, exactly that many go on (the last block cut where the buffer ends, as nginx
/// writes a full buffer) and the rest stays; everything held goes on `interval` after the first byte was held (when
/// positive), or as soon as anything that is not a block arrives (the answer's last chunk, another answer) or the
/// stream ends. Units that are not blocks are never held themselves.
package struct StreamBufferRule: Sendable {
    private var bytes: Int
    private var interval: Duration
    /// The bytes still held of each block not wholly passed, oldest first.
    private var held: [Int] = []
    private var heldBytes = 0
    /// When everything held goes on, while something is held and `interval` is positive.
    private var deadline: Duration?

    /// The rule releasing `bytes` at a time (0: never by size) and everything after `interval` (0: never by time).
    package init(bytes: Int, interval: Duration) {
        self.bytes = bytes
        self.interval = interval
    }

    /// Decides on one input.
    package mutating func receive(_ input: StreamInput) -> [StreamDecision] {
        switch input {
        case .configured(.bufferStream(let bytes, let interval), let time):
            self.bytes = bytes
            self.interval = interval
            if self.heldBytes > 0, interval > .zero {
                self.deadline = min(self.deadline ?? time + interval, time + interval)
            }
            return self.releaseFullBuffers(at: time) + (self.deadline.map { [.wake(at: $0)] } ?? [])
        case .configured:
            return []
        case .unit(let unit, let time):
            guard case .eventBlock = unit.kind else {
                return self.releaseAll(at: time) + [.pass(bytes: nil, at: time)]
            }
            self.held.append(unit.size)
            self.heldBytes += unit.size
            var decisions: [StreamDecision] = []
            if self.deadline == nil, self.interval > .zero {
                self.deadline = time + self.interval
                decisions.append(.wake(at: time + self.interval))
            }
            return decisions + self.releaseFullBuffers(at: time)
        case .end(let time):
            return self.releaseAll(at: time) + [.passEnd(at: time)]
        case .timer(let time):
            guard let deadline = self.deadline, time >= deadline else { return [] }
            return self.releaseAll(at: time)
        }
    }

    /// Passes `bytes` at a time while that many are held.
    private mutating func releaseFullBuffers(at time: Duration) -> [StreamDecision] {
        var decisions: [StreamDecision] = []
        while self.bytes > 0, self.heldBytes >= self.bytes {
            var remaining = self.bytes
            while remaining > 0 {
                let head = self.held[0]
                if head <= remaining {
                    decisions.append(.pass(bytes: nil, at: time))
                    self.held.removeFirst()
                    remaining -= head
                } else {
                    decisions.append(.pass(bytes: remaining, at: time))
                    self.held[0] = head - remaining
                    remaining = 0
                }
            }
            self.heldBytes -= self.bytes
        }
        if self.heldBytes == 0 { self.deadline = nil }
        return decisions
    }

    /// Passes everything held.
    private mutating func releaseAll(at time: Duration) -> [StreamDecision] {
        let decisions = [StreamDecision](repeating: .pass(bytes: nil, at: time), count: self.held.count)
        self.held.removeAll()
        self.heldBytes = 0
        self.deadline = nil
        return decisions
    }
}
