/// Zeller and Hildebrandt's ddmin ("Simplifying and Isolating Failure-Inducing Input", 2002): the smallest subset
/// of a failing list it can find that still fails, by trying halves, then complements, then finer pieces.
///
/// The result is 1-minimal: removing any single element of it makes the failure go away (for a deterministic
/// predicate). Each subset is tried once; the order of the elements is kept.
package enum DeltaDebugging {
    /// Reduces `elements` while `fails` holds.
    ///
    /// - Parameters:
    ///   - elements: a list for which `fails` holds (not checked: the caller ran it).
    ///   - allowEmpty: whether the empty list may be the answer (tried first).
    ///   - fails: whether a subset still fails; called at most once per distinct subset.
    /// - Returns: a 1-minimal failing subset, in the original order.
    package static func minimize<Element>(
        _ elements: [Element],
        allowEmpty: Bool = true,
        fails: ([Element]) throws -> Bool
    ) rethrows -> [Element] {
        var tried: Set<[Int]> = [Array(elements.indices)]
        func check(_ subset: [Int]) throws -> Bool {
            guard tried.insert(subset).inserted else { return false }
            return try fails(subset.map { elements[$0] })
        }
        if allowEmpty, !elements.isEmpty, try check([]) { return [] }
        var current = Array(elements.indices)
        var granularity = 2
        while current.count >= 2 {
            let chunks = Self.split(current, into: granularity)
            var reduced = false
            // A single chunk that still fails: keep only it.
            for chunk in chunks where try check(chunk) {
                current = chunk
                granularity = 2
                reduced = true
                break
            }
            // Or a complement: drop one chunk (with two chunks, the other chunk: already tried).
            if !reduced {
                for index in chunks.indices {
                    let complement = chunks.enumerated().filter { $0.offset != index }.flatMap(\.element)
                    if try check(complement) {
                        current = complement
                        granularity = max(granularity - 1, 2)
                        reduced = true
                        break
                    }
                }
            }
            if !reduced {
                guard granularity < current.count else { break }
                granularity = min(current.count, granularity * 2)
            }
        }
        return current.map { elements[$0] }
    }

    /// `indices` cut into `count` contiguous pieces of near-equal size (the first ones one longer).
    static func split(_ indices: [Int], into count: Int) -> [[Int]] {
        let count = min(count, indices.count)
        var pieces: [[Int]] = []
        var start = 0
        for piece in 0..<count {
            let length = indices.count / count + (piece < indices.count % count ? 1 : 0)
            pieces.append(Array(indices[start..<start + length]))
            start += length
        }
        return pieces
    }
}
