import NIOCore
import NIOPosix
import SquallServices
import Testing

/// A sleep timed by an event loop: it lasts at least its duration, resumes a task that prefers the loop on the loop,
/// ends at once with `CancellationError` when the task is cancelled or the loop shuts down.
@Suite struct EventLoopSleepTests {
    @Test func aSleepLastsAtLeastItsDurationAndResumesOnTheLoop() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let (slept, onLoop) = try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
            let start = ContinuousClock.now
            try await loop.sleep(for: .milliseconds(50))
            return (ContinuousClock.now - start, loop.inEventLoop)
        }
        #expect(slept >= .milliseconds(50))
        #expect(slept < .seconds(5))
        #expect(onLoop)
    }

    @Test func sleepsEndInDeadlineOrderWhateverOrderTheyStartIn() async throws {
        // The loop's timers arm one NIO timer for the earliest pending millisecond: a short sleep started after a
        // long one must be armed for anew, not wait behind it.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let start = ContinuousClock.now
        let order = await withTaskGroup(of: (Int, Duration).self) { group in
            for milliseconds in [400, 200, 30, 30, 5] {
                group.addTask(executorPreference: EventLoopTaskExecutor(loop)) {
                    try? await loop.sleep(for: .milliseconds(milliseconds))
                    return (milliseconds, ContinuousClock.now - start)
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
            var order: [(Int, Duration)] = []
            for await ended in group { order.append(ended) }
            return order
        }
        #expect(order.map(\.0) == [5, 30, 30, 200, 400])
        for (milliseconds, elapsed) in order {
            #expect(elapsed >= .milliseconds(milliseconds), "never early")
        }
        #expect(order[0].1 < .milliseconds(200), "the short sleep did not wait for the long ones: \(order[0].1)")
    }

    @Test func aSleepUntilAPastDeadlineReturnsAtOnce() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let start = ContinuousClock.now
        try await loop.sleep(until: start - .seconds(1))
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func cancellationEndsASleepAtOnce() async {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let start = ContinuousClock.now
        let sleeper = Task {
            do {
                try await loop.sleep(for: .seconds(60))
                return false
            } catch {
                return true
            }
        }
        try? await Task.sleep(for: .milliseconds(20))
        sleeper.cancel()
        #expect(await sleeper.value, "the sleep threw CancellationError")
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func aTaskCancelledBeforeItSleepsDoesNotSleep() async {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let start = ContinuousClock.now
        let sleeper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return (try? await loop.sleep(for: .seconds(60))) == nil
        }
        #expect(await sleeper.value)
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func aSleepOnALoopThatShutsDownEnds() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let ended = await withTaskGroup(of: Bool?.self) { tasks in
            tasks.addTask { (try? await loop.sleep(for: .seconds(60))) == nil }
            tasks.addTask {
                // A sleep the shutdown did not end would otherwise hang the test.
                try? await Task.sleep(for: .seconds(30))
                return nil
            }
            try? await Task.sleep(for: .milliseconds(20))
            try? await group.shutdownGracefully()
            let first = await tasks.next() ?? nil
            tasks.cancelAll()
            return first
        }
        #expect(ended == true, "the sleep ended with an error when its loop shut down")
    }
}
