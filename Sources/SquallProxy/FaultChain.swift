import NIOCore
import SquallFaults

/// The ordered faults of one part of one direction of one connection.
///
/// Each direction has two chains. The message part holds the faults that act on whole requests and frames, as the
/// inspection handlers in the source socket's pipeline recognised them; what leaves it goes to the destination
/// socket's pipeline, where a request is encoded by NIO's `HTTPRequestEncoder`. The byte part holds the faults that
/// act on the bytes as they go on the wire (latency, bandwidth, slicing…); what leaves it is written to the
/// destination socket. The chain counts the bytes held inside it so the connection can stop reading from the source
/// while a fault holds too much (backpressure instead of unbounded buffering).
final class FaultChain {
    /// Which faults a chain holds.
    enum Part {
        /// Faults on whole HTTP requests and WebSocket frames.
        case messages
        /// Faults on the byte stream.
        case bytes
    }

    /// Which way the chain carries bytes.
    let direction: FaultDirection
    /// Which faults the chain holds.
    let part: Part
    /// The connection the chain belongs to.
    unowned let connection: ProxyConnection
    /// The stages in fault-creation order.
    private(set) var stages: [FaultStage] = []
    /// Bytes received but not yet delivered or dropped.
    private(set) var heldBytes = 0
    /// Whether any stage acts on this connection; when none does, items go straight to the sink.
    private var hasActiveStage = false

    /// Creates an empty chain.
    init(direction: FaultDirection, part: Part, connection: ProxyConnection) {
        self.direction = direction
        self.part = part
        self.connection = connection
    }

    /// Takes an item read from the source.
    ///
    /// - Parameter batched: whether the sink may defer the flush to the end of the current read batch.
    func receive(_ item: StreamItem, batched: Bool) {
        self.heldBytes += item.byteCount
        if self.hasActiveStage {
            self.stages[0].receive(item)
        } else {
            self.deliver(item, batched: batched)
        }
    }

    /// Takes an item the last stage emitted: it leaves the chain for the destination socket.
    func leave(_ item: StreamItem) {
        self.deliver(item, batched: false)
    }

    /// Forgets an item a stage dropped on purpose.
    func discard(_ item: StreamItem) {
        self.heldBytes -= item.byteCount
        self.connection.chainReleasedBytes(self.direction)
    }

    /// Rebuilds the chain for a new fault list: kept faults keep their state, new faults are appended, removed
    /// faults pass what they hold to the stage after them at once.
    ///
    /// - Parameters:
    ///   - faults: the proxy's stream faults for this direction, in creation order.
    ///   - isActive: the toxicity outcome for a fault on this connection.
    ///   - makeStage: builds a stage for a new fault.
    /// - Returns: the faults removed from this chain that had acted on this connection.
    func apply(
        faults: [Fault],
        isActive: (Fault) -> Bool,
        makeStage: (Fault, Bool, FaultChain) -> FaultStage
    ) -> [Fault] {
        let oldStages = self.stages
        var newStages: [FaultStage] = []
        var created: [FaultStage] = []
        for fault in faults {
            if let existing = oldStages.first(where: { $0.fault.name == fault.name && $0.fault.type == fault.type }) {
                newStages.append(existing)
            } else {
                let stage = makeStage(fault, isActive(fault), self)
                newStages.append(stage)
                created.append(stage)
            }
        }
        var liftedFaults: [Fault] = []
        var carried: [(after: Int, items: [StreamItem])] = []
        for (index, stage) in oldStages.enumerated() where !newStages.contains(where: { $0 === stage }) {
            if stage.isActive {
                liftedFaults.append(stage.fault)
            }
            carried.append((index, stage.drain()))
            stage.isLinked = false
            stage.successor = nil
        }
        self.stages = newStages
        self.link()
        // Update kept stages after the chain is rebuilt, so anything they release flows through the new chain.
        for stage in newStages where !created.contains(where: { $0 === stage }) {
            if let fault = faults.first(where: { $0.name == stage.fault.name }) {
                stage.update(to: fault, isActive: isActive(fault))
            }
        }
        self.hasActiveStage = self.stages.contains { $0.isActive }
        for (oldIndex, items) in carried where !items.isEmpty {
            let successor = oldStages[(oldIndex + 1)...].first { stage in self.stages.contains { $0 === stage } }
            for item in items {
                if let successor {
                    successor.receive(item)
                } else {
                    self.deliver(item, batched: false)
                }
            }
        }
        return liftedFaults
    }

    /// Stops every stage's timers and forgets what they hold: the connection is closing.
    func cancel() {
        for stage in self.stages {
            stage.cancel()
            stage.isLinked = false
            stage.successor = nil
        }
        self.stages = []
        self.hasActiveStage = false
    }

    /// Points each stage at the one after it; stages no longer in the chain are unlinked.
    private func link() {
        for (index, stage) in self.stages.enumerated() {
            stage.isLinked = true
            stage.successor = index + 1 < self.stages.count ? self.stages[index + 1] : nil
        }
    }

    private func deliver(_ item: StreamItem, batched: Bool) {
        self.heldBytes -= item.byteCount
        switch self.part {
        case .messages: self.connection.messageLeft(item, direction: self.direction, batched: batched)
        case .bytes: self.connection.deliver(item, direction: self.direction, batched: batched)
        }
        if !batched {
            self.connection.chainReleasedBytes(self.direction)
        }
    }
}
