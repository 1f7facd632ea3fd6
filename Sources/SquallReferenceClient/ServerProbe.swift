import NIOCore
import NIOHTTP1
import NIOPosix

/// `GET path` on a server until it answers: how the scenario runner waits for an external server it started.
package struct ServerProbe: Sendable {
    /// The server.
    package var server: ServerAddress
    /// The bound on one request.
    package var timeout: Duration

    /// Creates a probe.
    package init(server: ServerAddress, timeout: Duration = .seconds(2)) {
        self.server = server
        self.timeout = timeout
    }

    /// Sends one `GET`.
    ///
    /// - Returns: the status, or nil and the reason no answer came (`connection refused`, `timed out`).
    package func status(of path: String) async -> (status: Int?, failure: String?) {
        let exchange = HTTPExchange(
            server: self.server,
            timeout: self.timeout,
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton
        )
        switch await exchange.send(.GET, self.server.pathPrefix + path, token: nil) {
        case .success(let answer): return (Int(answer.status.code), nil)
        case .failure(let failure): return (nil, failure.description)
        }
    }
}
