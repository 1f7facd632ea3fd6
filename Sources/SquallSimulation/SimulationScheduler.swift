/// The simulation's one clock and its queue of what happens next: a virtual time that jumps from one scheduled
/// event to the next (it never ticks), with ties broken by the order events were scheduled, so one seed always
/// plays the same sequence.
///
/// The heap holds plain values (when, in what order, and which slot holds the work): sifting a million-entry heap
/// moves 24-byte keys and never touches a reference count; the work waits in a slot, reused once run.
///
/// Single-threaded by construction: a simulation runs in one synchronous call, so nothing here is shared.
package final class SimulationScheduler {
    /// What is due: when, the order it was scheduled in, and the slot its work waits in.
    private struct Key {
        var time: Double
        var order: UInt64
        var slot: Int32

        /// Whether this key is due before `other`: earlier, or as early and scheduled first.
        func precedes(_ other: Key) -> Bool {
            self.time < other.time || (self.time == other.time && self.order < other.order)
        }
    }

    /// Now, in virtual milliseconds since the simulation began.
    package private(set) var now: Double = 0
    private var heap: [Key] = []
    /// The work of every scheduled event, by slot; a run slot is emptied and listed in `freeSlots`.
    private var work: [(() -> Void)?] = []
    private var freeSlots: [Int32] = []
    private var scheduled: UInt64 = 0
    /// Events run so far.
    package private(set) var eventsRun = 0

    /// A clock at 0 with nothing scheduled.
    package init() {}

    /// Runs `work` at virtual time `time` (now, if it is in the past).
    package func schedule(at time: Double, _ work: @escaping () -> Void) {
        self.scheduled += 1
        let slot: Int32
        if let free = self.freeSlots.popLast() {
            slot = free
            self.work[Int(free)] = work
        } else {
            slot = Int32(self.work.count)
            self.work.append(work)
        }
        self.push(Key(time: max(time, self.now), order: self.scheduled, slot: slot))
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
            let key = self.pop()
            self.now = key.time
            self.eventsRun += 1
            let slot = Int(key.slot)
            let work = self.work[slot].take()
            self.freeSlots.append(key.slot)
            work?()
            if stop() { return true }
        }
        self.now = max(self.now, end)
        return false
    }

    private func push(_ key: Key) {
        self.heap.append(key)
        var child = self.heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard key.precedes(self.heap[parent]) else { break }
            self.heap[child] = self.heap[parent]
            child = parent
        }
        self.heap[child] = key
    }

    private func pop() -> Key {
        let first = self.heap[0]
        let last = self.heap.removeLast()
        let count = self.heap.count
        guard count > 0 else { return first }
        // The last key takes the root's place and sinks to where it belongs.
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            let right = left + 1
            let earlier = right < count && self.heap[right].precedes(self.heap[left]) ? right : left
            guard self.heap[earlier].precedes(last) else { break }
            self.heap[parent] = self.heap[earlier]
            parent = earlier
        }
        self.heap[parent] = last
        return first
    }
}
