import NIOHTTP1

/// The bearer token the control API requires, as Toxiproxy 2.13 does (`TOXIPROXY_AUTH_TOKEN`): every request must
/// carry `Authorization: Bearer <token>`.
///
/// The comparison takes the same time whatever the offered token holds (it depends on the expected token's length
/// only), so a caller cannot find the token a byte at a time by timing answers. The token is never printed: its
/// description is a placeholder.
package struct ControlToken: Sendable, CustomStringConvertible {
    private let bytes: [UInt8]

    /// A token; nil when `text` is empty (no token is no protection, and is refused rather than accepted).
    package init?(_ text: String) {
        guard !text.isEmpty else { return nil }
        self.bytes = Array(text.utf8)
    }

    /// Whether `headers` carry this token as `Authorization: Bearer …` (the scheme in any case, RFC 7235).
    package func isPresent(in headers: HTTPHeaders) -> Bool {
        var found = false
        for value in headers["Authorization"] {
            let bytes = Array(value.utf8)
            let scheme = Array("bearer ".utf8)
            guard bytes.count >= scheme.count,
                zip(bytes.prefix(scheme.count), scheme).allSatisfy({ ($0 | 0x20) == $1 || ($0 == $1) })
            else { continue }
            var offered = bytes[scheme.count...]
            while offered.first == UInt8(ascii: " ") { offered = offered.dropFirst() }
            // Every value is compared, so the time does not tell which one (if any) matched.
            found = Self.constantTimeEqual(Array(offered), self.bytes) || found
        }
        return found
    }

    /// Whether `offered` equals `expected`, in a time that depends on `expected`'s length only.
    package static func constantTimeEqual(_ offered: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = offered.count ^ expected.count
        for index in 0..<expected.count {
            let byte = index < offered.count ? offered[index] : 0
            difference |= Int(byte ^ expected[index])
        }
        return difference == 0
    }

    package var description: String { "<token, \(self.bytes.count) bytes>" }
}
