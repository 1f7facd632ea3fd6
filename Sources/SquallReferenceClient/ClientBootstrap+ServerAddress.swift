import NIOCore
import NIOPosix

extension ClientBootstrap {
    /// Connects to `server`: straight to the address when its host is an IP literal (no resolver, no Happy Eyeballs
    /// race, which in a reconnect storm of thousands of clients cost more than the connect itself), through NIO's
    /// resolver otherwise.
    func connect<Output: Sendable>(
        to server: ServerAddress,
        channelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>
    ) async throws -> Output {
        if let address = try? SocketAddress(ipAddress: server.host, port: server.port) {
            return try await self.connect(to: address, channelInitializer: channelInitializer)
        }
        return try await self.connect(host: server.host, port: server.port, channelInitializer: channelInitializer)
    }
}
