import NIOCore
import NIOPosix
import SquallServices
import Testing

/// Tasks that prefer an ``EventLoopTaskExecutor`` run on its loop, child tasks included; without the preference they
/// run on Swift's global pool.
@Suite struct EventLoopTaskExecutorTests {
    /// Whether a child task, and the parent after a suspension, ran on `loop`.
    private func runsOn(_ loop: any EventLoop) async -> (child: Bool, parent: Bool) {
        let child = await withTaskGroup(of: Bool.self) { group in
            group.addTask { loop.inEventLoop }
            return await group.next() ?? false
        }
        try? await Task.sleep(for: .milliseconds(1))
        return (child, loop.inEventLoop)
    }

    @Test func tasksThatPreferTheExecutorRunOnItsLoop() async {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let preferred = await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
            await self.runsOn(loop)
        }
        #expect(preferred.child && preferred.parent)
        let unpreferred = await self.runsOn(loop)
        #expect(!unpreferred.child && !unpreferred.parent)
    }

    @Test func aTaskAddedWithThePreferenceRunsOnTheLoop() async {
        let group = MultiThreadedEventLoopGroup.singleton
        for loop in group.makeIterator() {
            let onLoop = await withTaskGroup(of: Bool.self) { tasks in
                tasks.addTask(executorPreference: EventLoopTaskExecutor(loop)) { loop.inEventLoop }
                return await tasks.next() ?? false
            }
            #expect(onLoop)
        }
    }
}
