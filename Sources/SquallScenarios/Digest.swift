/// A stable fingerprint for scenario files and planned timelines (FNV-1a, 64 bits): enough to tell two texts apart
/// in a report, not a security hash.
package enum Digest {
    /// The FNV-1a 64 of `text`'s UTF-8, as 16 lower-case hex digits.
    package static func fnv1a64(_ text: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
