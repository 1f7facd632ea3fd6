import Foundation
import NIOCore
import SquallBenchmarks
import SquallReferenceServer
import SquallTestSupport
import Testing

/// The reference server ended by cancellation with a silent peer connected.
@Suite struct ServerLifecycleTests {
    @Test func cancellingRunEndsItWithinTheDrainDeadlineWhateverAPeerDoes() async throws {
        var configuration = ReferenceServerConfiguration()
        configuration.drainDeadline = .milliseconds(500)
        let server = try await ReferenceServer.bind(configuration: configuration)
        let running = Task { await server.run() }
        let silent = try await blocking { try BlockingSocket(port: server.localAddress.port ?? 0) }
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        running.cancel()
        await running.value
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(400), "the silent peer was given the drain deadline: \(elapsed)")
        #expect(elapsed < .seconds(3), "and then closed: \(elapsed)")
        #expect(try await blocking { silent.readToEnd(timeout: 2).end } == .endOfFile, "the server closed it")
        await server.close()  // joins the finished shutdown at once
    }
}
