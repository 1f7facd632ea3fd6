import Foundation
import NIOCore
import NIOPosix

/// Turns NIO's connection errors into the short reasons client events carry (`connection refused`,
/// `connect timed out`, `connection reset`), so event logs read the same whichever layer failed.
enum ConnectionFailure {
    /// A short reason for `error`.
    static func describe(_ error: any Error) -> String {
        if let channelError = error as? ChannelError {
            switch channelError {
            case .connectTimeout: return "connect timed out"
            case .inappropriateOperationForState, .ioOnClosedChannel, .alreadyClosed, .eof:
                return "connection closed"
            default: return "\(channelError)"
            }
        }
        if let connectionError = error as? NIOConnectionError {
            if let first = connectionError.connectionErrors.first {
                return Self.describe(first.error)
            }
            return connectionError.dnsAAAAError.map { "name lookup failed: \($0)" } ?? "connect failed"
        }
        if let ioError = error as? IOError {
            switch ioError.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ECONNRESET: return "connection reset"
            case EPIPE: return "broken pipe"
            case ETIMEDOUT: return "connect timed out"
            default: return "I/O error \(ioError.errnoCode)"
            }
        }
        return "\(error)"
    }
}
