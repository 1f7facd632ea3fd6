import Foundation
import NIOCore
import NIOPosix
import SquallReferenceProtocol

extension FailureReason {
    /// The reason for one of NIO's connection errors (`connection refused`, `connection reset`, …), so event logs
    /// read the same whichever layer failed, and the same as the simulator's.
    package init(_ error: any Error) {
        if let channelError = error as? ChannelError {
            switch channelError {
            case .connectTimeout: self = .requestTimedOut
            case .inappropriateOperationForState, .ioOnClosedChannel, .alreadyClosed, .eof: self = .connectionClosed
            default: self = .other("\(channelError)")
            }
            return
        }
        if let connectionError = error as? NIOConnectionError {
            if let first = connectionError.connectionErrors.first {
                self.init(first.error)
            } else {
                self = .other(connectionError.dnsAAAAError.map { "name lookup failed: \($0)" } ?? "connect failed")
            }
            return
        }
        if let ioError = error as? IOError {
            switch ioError.errnoCode {
            case ECONNREFUSED: self = .connectionRefused
            case ECONNRESET: self = .connectionReset
            case EPIPE: self = .brokenPipe
            case ETIMEDOUT: self = .requestTimedOut
            default: self = .other("I/O error \(ioError.errnoCode)")
            }
            return
        }
        self = .other("\(error)")
    }

    /// The cause of a stream's connection failing, for ``FailureReason/connectionLost(cause:)``.
    package static func cause(of error: any Error) -> Cause {
        let reason = FailureReason(error)
        if reason == .connectionReset { return .reset }
        if reason == .brokenPipe { return .brokenPipe }
        return .other(reason.description)
    }
}
