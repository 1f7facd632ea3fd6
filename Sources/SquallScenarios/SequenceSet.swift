/// The message sequence numbers a client received, compact for the dense run 1, 2, 3… a job publishes: one bit each
/// up to ``denseLimit``, a set for any beyond (an external client may report any number).
struct SequenceSet: Sendable {
    /// Numbers below this are kept as bits.
    static let denseLimit = 1 << 16
    private var bits: [UInt64] = []
    private var others: Set<Int> = []

    /// Adds `seq`; false when it was already there.
    mutating func insert(_ seq: Int) -> Bool {
        guard seq >= 0, seq < Self.denseLimit else { return self.others.insert(seq).inserted }
        let (word, bit) = seq.quotientAndRemainder(dividingBy: 64)
        if word >= self.bits.count { self.bits.append(contentsOf: repeatElement(0, count: word - self.bits.count + 1)) }
        let mask: UInt64 = 1 << UInt64(bit)
        defer { self.bits[word] |= mask }
        return self.bits[word] & mask == 0
    }

    /// Whether `seq` is there.
    func contains(_ seq: Int) -> Bool {
        guard seq >= 0, seq < Self.denseLimit else { return self.others.contains(seq) }
        let (word, bit) = seq.quotientAndRemainder(dividingBy: 64)
        return word < self.bits.count && self.bits[word] & (1 << UInt64(bit)) != 0
    }

    /// How many of the numbers satisfy `predicate`.
    func count(where predicate: (Int) -> Bool) -> Int {
        var count = 0
        for (word, value) in self.bits.enumerated() where value != 0 {
            for bit in 0..<64 where value & (1 << UInt64(bit)) != 0 && predicate(word * 64 + bit) { count += 1 }
        }
        return count + self.others.count(where: predicate)
    }
}
