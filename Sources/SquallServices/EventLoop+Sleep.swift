import NIOCore
import Synchronization

extension EventLoop {
    /// Suspends the calling task for `duration`, timed by this loop rather than by Swift's global timer.
    ///
    /// A task that runs on this loop (see ``EventLoopTaskExecutor``) and calls `Task.sleep` hops three times per
    /// sleep: to the global executor's timer thread, to one of its worker threads, and back to the loop through a
    /// wake-up. Here the loop fires the timer itself (``LoopTimers``, at most a millisecond late) and resumes the task
    /// in the same tick.
    ///
    /// Cancellation resumes the task at once. As with any work scheduled on a loop, the loop must not have shut down
    /// when the sleep starts (NIO drops the work); one that shuts down during the sleep ends it.
    ///
    /// - Throws: `CancellationError` when the task is cancelled first, or the loop is shutting down.
    package func sleep(for duration: Duration) async throws(CancellationError) {
        let sleeper = LoopSleeper()
        let deadline = NIODeadline.now() + TimeAmount(duration)
        let fired = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                guard sleeper.wait(continuation) else { return }
                if self.inEventLoop {
                    LoopTimers.current(on: self).add(sleeper, deadline: deadline)
                } else {
                    self.execute { LoopTimers.current(on: self).add(sleeper, deadline: deadline) }
                }
            }
        } onCancel: {
            sleeper.wake(fired: false)
        }
        guard fired else { throw CancellationError() }
    }

    /// Suspends the calling task until `deadline` on the continuous clock, timed by this loop (see
    /// ``sleep(for:)``); returns at once when the deadline has passed.
    ///
    /// - Throws: `CancellationError` when the task is cancelled first, or the loop is shutting down.
    package func sleep(until deadline: ContinuousClock.Instant) async throws(CancellationError) {
        try await self.sleep(for: max(.zero, deadline - .now))
    }
}

/// One sleeping task's continuation, resumed exactly once: by its timer, its cancellation or the loop's shutdown.
final class LoopSleeper: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Bool, Never>)
        case done
    }

    private let state = Mutex(State.idle)

    /// Stores the continuation; resumes it at once (and returns false) when the task was cancelled before it slept.
    func wait(_ continuation: CheckedContinuation<Bool, Never>) -> Bool {
        let sleeping = self.state.withLock { state in
            guard case .idle = state else { return false }
            state = .waiting(continuation)
            return true
        }
        if !sleeping { continuation.resume(returning: false) }
        return sleeping
    }

    /// Resumes the task, `fired` telling whether its time came; later calls do nothing.
    func wake(fired: Bool) {
        let continuation = self.state.withLock { state -> CheckedContinuation<Bool, Never>? in
            defer { state = .done }
            guard case .waiting(let continuation) = state else { return nil }
            return continuation
        }
        continuation?.resume(returning: fired)
    }
}
