/// Where the `slicer` fault cuts a chunk.
///
/// Unlike Toxiproxy's recursive bisection (which yields pieces near half the average and overflows the stack for an
/// average of 0), the cuts are sequential: each piece is `averageSize` plus a uniform variation in
/// `-sizeVariation...sizeVariation`, so the average piece really is `averageSize`.
package enum SlicePlan {
    /// The piece sizes for a chunk of `length` bytes; they add up to `length`.
    ///
    /// - Parameters:
    ///   - length: the chunk size in bytes.
    ///   - averageSize: the average piece size, at least 1.
    ///   - sizeVariation: the largest deviation from the average, below `averageSize`.
    ///   - random: the generator for the variation.
    package static func pieces<Random: RandomNumberGenerator>(
        length: Int,
        averageSize: Int,
        sizeVariation: Int,
        random: inout Random
    ) -> [Int] {
        precondition(averageSize >= 1 && sizeVariation >= 0, "slicer attributes are validated before use")
        var sizes: [Int] = []
        var remaining = length
        while remaining > 0 {
            var size = averageSize
            if sizeVariation > 0 {
                size += Int.random(in: -sizeVariation...sizeVariation, using: &random)
            }
            size = min(remaining, max(1, size))
            sizes.append(size)
            remaining -= size
        }
        return sizes
    }
}
