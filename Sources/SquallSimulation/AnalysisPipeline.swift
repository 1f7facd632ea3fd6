import Dispatch
import SquallScenarios

/// The run's ``RunAnalysis`` on a thread of its own: the simulation hands it its events in batches and goes on, so
/// reading them into the metrics takes the other core instead of the simulation's time. At most ``depth`` batches
/// wait, so memory stays bounded when the analysis falls behind; the events reach it in the order they happened, so
/// the result is the same as reading them on the simulation's thread.
final class AnalysisPipeline: @unchecked Sendable {
    // @unchecked: `analysis` is touched only on `queue` (``finish()`` reads it there); `batch` only on the
    // simulation's thread.
    private var analysis = RunAnalysis()
    private var batch: [LoggedEvent] = []
    private let queue = DispatchQueue(label: "squall.sim.analysis")
    private let slots: DispatchSemaphore

    /// Events per batch.
    static let batchSize = 4_096
    /// Batches that may wait for the analysis.
    static let depth = 16

    init() {
        self.slots = DispatchSemaphore(value: Self.depth)
        self.batch.reserveCapacity(Self.batchSize)
    }

    /// Reads `event` (on the simulation's thread).
    func add(_ event: LoggedEvent) {
        self.batch.append(event)
        if self.batch.count >= Self.batchSize { self.send() }
    }

    private func send() {
        let events = self.batch
        self.batch = []
        self.batch.reserveCapacity(Self.batchSize)
        self.slots.wait()
        self.queue.async {
            for event in events { self.analysis.add(event) }
            self.slots.signal()
        }
    }

    /// Waits for every event to be read and hands over the analysis (the pipeline keeps an empty one).
    func finish() -> RunAnalysis {
        if !self.batch.isEmpty { self.send() }
        return self.queue.sync {
            defer { self.analysis = RunAnalysis() }
            return self.analysis
        }
    }
}
