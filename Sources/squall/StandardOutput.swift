#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// Standard output settings for long-running commands.
enum StandardOutput {
    /// Switches standard output to line buffering, so a supervising process (or a CI log) sees each line at once
    /// rather than when the buffer fills.
    static func useLineBuffering() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }
}
