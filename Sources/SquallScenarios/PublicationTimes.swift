/// When a job published each of its messages (log time, ms), by sequence number: an array for the dense run 1, 2,
/// 3… the reference server publishes, a dictionary for numbers beyond it.
struct PublicationTimes: Sendable {
    private var dense: [Double] = []
    private var others: [Int: Double] = [:]

    /// The publication time of `seq`, nil when it was never published; setting records its (latest) publication.
    subscript(seq: Int) -> Double? {
        get {
            guard seq >= 0, seq < SequenceSet.denseLimit else { return self.others[seq] }
            guard seq < self.dense.count, !self.dense[seq].isNaN else { return nil }
            return self.dense[seq]
        }
        set {
            guard seq >= 0, seq < SequenceSet.denseLimit else {
                self.others[seq] = newValue
                return
            }
            if seq >= self.dense.count {
                guard newValue != nil else { return }
                self.dense.append(contentsOf: repeatElement(.nan, count: seq - self.dense.count + 1))
            }
            self.dense[seq] = newValue ?? .nan
        }
    }

    /// Calls `body` with every published sequence number and its time.
    func forEachPublication(_ body: (_ seq: Int, _ time: Double) -> Void) {
        for (seq, time) in self.dense.enumerated() where !time.isNaN { body(seq, time) }
        for (seq, time) in self.others { body(seq, time) }
    }
}
