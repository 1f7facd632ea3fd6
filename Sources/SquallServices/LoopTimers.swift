import NIOCore
import NIOPosix

/// The sleeps of one event loop (``EventLoop/sleep(for:)``), kept out of NIO's own timer queue: one NIO timer per
/// loop, armed for the earliest pending millisecond, wakes every sleep due by then.
///
/// NIO keeps a loop's timers in one heap, and cancelling a timer (as every connect timeout, request deadline and idle
/// handler does when its connection finishes first) scans the whole heap. With every client's and job's timers in
/// it — thousands per loop in a 5 000-client run — cancelling cost about 6 % of a reconnect storm's CPU
/// (`perf record`). Here the sleeps are grouped by the millisecond they are due in, so NIO's heap holds one timer per
/// loop for them, and a sleep resumes at most a millisecond after its deadline.
final class LoopTimers: Sendable {
    /// A millisecond, the resolution sleeps are grouped at.
    static let resolution: Int64 = 1_000_000

    private struct State {
        /// The sleeps due in each pending millisecond (uptime nanoseconds / ``resolution``, rounded up).
        var due: [Int64: [LoopSleeper]] = [:]
        /// The pending milliseconds, earliest first.
        var pending = MillisecondHeap()
        /// The milliseconds a NIO timer is armed for (a few at most: a timer is armed again only for an earlier one).
        var armed: Set<Int64> = []
    }

    private let loop: any EventLoop
    private let state: NIOLoopBoundBox<State>

    private init(loop: any EventLoop) {
        self.loop = loop
        self.state = NIOLoopBoundBox(State(), eventLoop: loop)
    }

    /// This thread's timers, for `loop`; call it on `loop`.
    static func current(on loop: any EventLoop) -> LoopTimers {
        if let timers = Self.perThread.currentValue, timers.loop === loop {
            return timers
        }
        let timers = LoopTimers(loop: loop)
        Self.perThread.currentValue = timers
        return timers
    }

    private static let perThread = ThreadSpecificVariable<LoopTimers>()

    /// Wakes `sleeper` (with `fired: true`) once `deadline` has passed; call it on the loop.
    func add(_ sleeper: LoopSleeper, deadline: NIODeadline) {
        let nanoseconds = Int64(clamping: deadline.uptimeNanoseconds)
        let millisecond = nanoseconds / Self.resolution + (nanoseconds % Self.resolution == 0 ? 0 : 1)
        if self.state.value.due[millisecond]?.append(sleeper) == nil {
            self.state.value.due[millisecond] = [sleeper]
            self.state.value.pending.push(millisecond)
        }
        self.arm()
    }

    /// Arms a NIO timer for the earliest pending millisecond unless one is armed for it or earlier.
    private func arm() {
        guard let earliest = self.state.value.pending.minimum else { return }
        if let armed = self.state.value.armed.min(), armed <= earliest { return }
        self.state.value.armed.insert(earliest)
        do {
            _ = try self.loop.assumeIsolated().scheduleCallback(
                at: .uptimeNanoseconds(UInt64(earliest * Self.resolution)),
                handler: Firing(timers: self, millisecond: earliest)
            )
        } catch {
            self.cancelAll()
        }
    }

    /// Wakes every sleep due by now and arms the timer for the next.
    fileprivate func fire(armedFor millisecond: Int64) {
        self.state.value.armed.remove(millisecond)
        let now = Int64(clamping: NIODeadline.now().uptimeNanoseconds) / Self.resolution
        while let earliest = self.state.value.pending.minimum, earliest <= now {
            self.state.value.pending.popMinimum()
            for sleeper in self.state.value.due.removeValue(forKey: earliest) ?? [] {
                sleeper.wake(fired: true)
            }
        }
        self.arm()
    }

    /// Ends every pending sleep without firing it: the loop is shutting down.
    fileprivate func cancelAll() {
        let due = self.state.value.due
        self.state.value = State()
        for sleeper in due.values.joined() {
            sleeper.wake(fired: false)
        }
    }

    /// The NIO timer armed for one millisecond.
    private struct Firing: NIOScheduledCallbackHandler {
        let timers: LoopTimers
        let millisecond: Int64

        func handleScheduledCallback(eventLoop: some EventLoop) {
            self.timers.fire(armedFor: self.millisecond)
        }

        func didCancelScheduledCallback(eventLoop: some EventLoop) {
            self.timers.cancelAll()
        }
    }
}

/// A binary min-heap of milliseconds.
private struct MillisecondHeap {
    private var storage: [Int64] = []

    /// The earliest millisecond, if any.
    var minimum: Int64? { self.storage.first }

    /// Adds `millisecond`.
    mutating func push(_ millisecond: Int64) {
        self.storage.append(millisecond)
        var child = self.storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.storage[child] < self.storage[parent] else { break }
            self.storage.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes the earliest millisecond.
    mutating func popMinimum() {
        guard !self.storage.isEmpty else { return }
        self.storage.swapAt(0, self.storage.count - 1)
        self.storage.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < self.storage.count, self.storage[left] < self.storage[smallest] { smallest = left }
            if right < self.storage.count, self.storage[right] < self.storage[smallest] { smallest = right }
            guard smallest != parent else { return }
            self.storage.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
