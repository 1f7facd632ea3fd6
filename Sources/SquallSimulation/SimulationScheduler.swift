/// The simulation's one clock and its queue of what happens next: a virtual time that jumps from one scheduled
/// event to the next (it never ticks), with ties broken by the order events were scheduled, so one seed always
/// plays the same sequence.
///
/// Single-threaded by construction: a simulation runs in one synchronous call, so nothing here is shared.
package final class SimulationScheduler {
    /// What is due, with when and the order it was scheduled in.
    private struct Entry {
        var time: Double
        var order: UInt64
        var work: () -> Void
    }

    /// Now, in virtual milliseconds since the simulation began.
    package private(set) var now: Double = 0
    private var heap: [Entry] = []
    private var scheduled: UInt64 = 0
    /// Events run so far.
    package private(set) var eventsRun = 0

    /// A clock at 0 with nothing scheduled.
    package init() {}

    /// Runs `work` at virtual time `time` (now, if it is in the past).
    package func schedule(at time: Double, _ work: @escaping () -> Void) {
        self.scheduled += 1
        self.push(Entry(time: max(time, self.now), order: self.scheduled, work: work))
    }

    /// Runs `work` after `delay` milliseconds.
    package func after(_ delay: Double, _ work: @escaping () -> Void) {
        self.schedule(at: self.now + max(0, delay), work)
    }

    /// Runs events in order until none is left before `end` (or `stop` says so); the clock ends at `end` or at the
    /// last event run.
    ///
    /// - Returns: whether it stopped because `stop` returned true.
    @discardableResult
    package func run(until end: Double, stop: () -> Bool = { false }) -> Bool {
        while let first = self.heap.first, first.time <= end {
            let entry = self.pop()
            self.now = entry.time
            self.eventsRun += 1
            entry.work()
            if stop() { return true }
        }
        self.now = max(self.now, end)
        return false
    }

    /// Whether the entry at `index` is due before the one at `other`. Reads only the keys: copying an entry would
    /// retain its closure, and the heap compares millions of times.
    private func precedes(_ index: Int, _ other: Int) -> Bool {
        let (time, otherTime) = (self.heap[index].time, self.heap[other].time)
        return time < otherTime || (time == otherTime && self.heap[index].order < self.heap[other].order)
    }

    private func push(_ entry: Entry) {
        self.heap.append(entry)
        var child = self.heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.precedes(child, parent) else { break }
            self.heap.swapAt(child, parent)
            child = parent
        }
    }

    private func pop() -> Entry {
        // Moved out, not copied: the last entry takes the root's place and sinks.
        self.heap.swapAt(0, self.heap.count - 1)
        let first = self.heap.removeLast()
        if !self.heap.isEmpty {
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < self.heap.count, self.precedes(left, smallest) { smallest = left }
                if right < self.heap.count, self.precedes(right, smallest) { smallest = right }
                if smallest == parent { break }
                self.heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
