import Foundation
import NIOCore
import SquallBenchmarks
import SquallReferenceServer
import SquallTestSupport
import Testing

/// The reference server's lifecycle: the state machine on its own, then the real server ended by cancellation with
/// a silent peer connected.
@Suite struct ServerLifecycleTests {
    @Test func runThenShutDownDrainsOnceAndAnotherRunReturnsAtOnce() {
        var machine = ServerLifecycleStateMachine()
        #expect(machine.run() == .serve)
        #expect(machine.isRunning)
        #expect(machine.run() == .returnAtOnce, "a second run() does not serve again")
        #expect(machine.shutDown() == .drainThenClose)
        #expect(!machine.isRunning)
        #expect(!machine.isShutDown, "shutting down until the drain ends")
        #expect(machine.shutDown() == .none, "a second shutdown request joins the first")
        machine.drained()
        #expect(machine.isShutDown)
        #expect(machine.run() == .returnAtOnce)
    }

    @Test func aShutdownBeforeRunOnlyClosesTheListener() {
        var machine = ServerLifecycleStateMachine()
        #expect(machine.shutDown() == .closeListener)
        #expect(machine.isShutDown)
        #expect(machine.run() == .returnAtOnce, "a server shut down before it ran never serves")
    }

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
