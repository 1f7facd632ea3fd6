import SquallServices
import Testing

/// The lifecycle every Squall server shares, as a value, without sockets.
@Suite struct ServerLifecycleStateMachineTests {
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
}
