#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain blocking TCP client socket for tests and benchmarks: it shows exactly what a peer of the proxy sees
/// (bytes, FIN versus RST, silence) with no framework in between.
///
/// Every receive has a timeout, so a test can never hang on it.
public final class BlockingSocket: Sendable {
    /// How a read ended.
    public enum ReadOutcome: Equatable, Sendable {
        /// Bytes arrived.
        case data([UInt8])
        /// The peer closed normally (FIN).
        case endOfFile
        /// The peer reset the connection (RST).
        case reset
        /// Nothing arrived before the timeout: the socket is open and silent.
        case timedOut
    }

    /// An error from a system call.
    public struct SocketError: Error, CustomStringConvertible {
        /// The failing call.
        public let call: String
        /// `errno` after it.
        public let code: Int32

        /// The call and the system's explanation.
        public var description: String {
            "\(self.call) failed: \(String(cString: strerror(self.code)))"
        }
    }

    private let descriptor: Int32

    /// Connects to `127.0.0.1:port`.
    ///
    /// - Parameters:
    ///   - port: the port to connect to.
    ///   - host: an IPv4 address literal.
    ///   - beforeConnect: when set, the socket is bound to a free local port first and this is told the port
    ///     before the connect (as a scenario's clients report theirs to the proxy).
    /// - Throws: ``SocketError`` when the connection is refused or fails.
    public init(port: Int, host: String = "127.0.0.1", beforeConnect: ((_ localPort: Int) -> Void)? = nil) throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw SocketError(call: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        if let beforeConnect {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &local) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
                }
            }
            guard bound else {
                let code = errno
                close(descriptor)
                throw SocketError(call: "bind", code: code)
            }
            beforeConnect(Int(UInt16(bigEndian: local.sin_port)))
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(descriptor)
            throw SocketError(call: "connect", code: code)
        }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.descriptor = descriptor
    }

    deinit {
        close(self.descriptor)
    }

    /// Sends all of `bytes`.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { buffer in
                #if canImport(Glibc)
                Glibc.send(self.descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
                #else
                Darwin.send(self.descriptor, buffer.baseAddress, buffer.count, 0)
                #endif
            }
            guard sent > 0 else { throw SocketError(call: "send", code: errno) }
            offset += sent
        }
    }

    /// Sends a string as UTF-8.
    public func send(_ text: String) throws {
        try self.send(Array(text.utf8))
    }

    /// Waits up to `timeout` seconds for whatever arrives next.
    public func read(maximum: Int = 65_536, timeout: Double) -> ReadOutcome {
        var poll = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
        let ready = Glibc.poll(&poll, 1, Int32(max(0, timeout * 1000)))
        if ready == 0 { return .timedOut }
        var buffer = [UInt8](repeating: 0, count: maximum)
        let count = buffer.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, maximum, 0) }
        if count > 0 { return .data(Array(buffer[0..<count])) }
        if count == 0 { return .endOfFile }
        return errno == ECONNRESET ? .reset : .endOfFile
    }

    /// Reads exactly `count` bytes, or fewer when the stream ends, fails or stays silent for `timeout` seconds.
    public func read(exactly count: Int, timeout: Double) -> (bytes: [UInt8], end: ReadOutcome?) {
        var bytes: [UInt8] = []
        while bytes.count < count {
            switch self.read(maximum: min(65_536, count - bytes.count), timeout: timeout) {
            case .data(let chunk): bytes += chunk
            case let other: return (bytes, other)
            }
        }
        return (bytes, nil)
    }

    /// Reads until the stream ends or stays silent for `timeout` seconds.
    ///
    /// - Returns: the bytes and how the stream ended (`.endOfFile`, `.reset` or `.timedOut`).
    public func readToEnd(timeout: Double) -> (bytes: [UInt8], end: ReadOutcome) {
        var bytes: [UInt8] = []
        while true {
            switch self.read(timeout: timeout) {
            case .data(let chunk): bytes += chunk
            case let end: return (bytes, end)
            }
        }
    }

    /// The local port the socket is bound to.
    public var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let found = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getsockname(self.descriptor, $0, &length) == 0
            }
        }
        return found ? Int(UInt16(bigEndian: address.sin_port)) : 0
    }

    /// Makes the socket's close abortive (SO_LINGER 0): when the last reference goes, the peer gets an RST instead
    /// of a FIN.
    public func resetOnClose() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(self.descriptor, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }

    /// Shuts the write side (sends FIN) and keeps reading possible: a half-close.
    public func shutdownWrite() {
        shutdown(self.descriptor, Int32(SHUT_WR))
    }
}
