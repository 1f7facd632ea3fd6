import NIOCore
import SquallFaults

/// What a stage is given when it is built: its event loop, its seeded generator and the chain it belongs to.
struct StageContext {
    /// The connection's event loop, where the stage and its timers run.
    let eventLoop: any EventLoop
    /// The generator for this fault's choices on this direction of this connection (see ``SeedTree``).
    let random: SeededRandom
    /// The chain the stage belongs to (for discards and the connection's actions).
    unowned let chain: FaultChain
}

/// One fault's place in a direction's chain on one connection: it receives items from the stage before it and
/// emits them, possibly later, changed or not at all, to the stage after it.
///
/// Stages live on the connection's event loop and are never shared. A stage whose toxicity draw left this
/// connection alone (`isActive == false`) passes everything straight on. Subclasses override
/// ``process(_:)`` and, when they hold items or timers, ``drain()`` and ``cancel()``.
class FaultStage {
    /// The fault as currently configured.
    private(set) var fault: Fault
    /// Whether the toxicity draw chose this connection.
    private(set) var isActive: Bool
    /// The chain this stage belongs to.
    unowned let chain: FaultChain
    /// The event loop everything runs on.
    let eventLoop: any EventLoop
    /// Where emitted items go: the next stage, or the chain's destination when nil. Set by the chain whenever it
    /// is rebuilt.
    var successor: FaultStage?
    /// False once the chain dropped the stage: a late emit (a timer that fired anyway) goes nowhere, its items
    /// were drained already.
    var isLinked = true

    /// Creates a stage.
    init(fault: Fault, isActive: Bool, context: StageContext) {
        self.fault = fault
        self.isActive = isActive
        self.chain = context.chain
        self.eventLoop = context.eventLoop
    }

    /// Takes an item from the previous stage.
    final func receive(_ item: StreamItem) {
        if self.isActive {
            self.process(item)
        } else {
            self.emit(item)
        }
    }

    /// Passes an item to the next stage.
    final func emit(_ item: StreamItem) {
        guard self.isLinked else { return }
        if let successor = self.successor {
            successor.receive(item)
        } else {
            self.chain.leave(item)
        }
    }

    /// Applies a changed fault (same name and type) or toxicity outcome; items held by a stage that becomes
    /// inactive are passed on at once.
    final func update(to fault: Fault, isActive: Bool) {
        let wasActive = self.isActive
        self.fault = fault
        self.isActive = isActive
        if wasActive && !isActive {
            for item in self.drain() {
                self.emit(item)
            }
        } else if isActive {
            self.configurationChanged(becameActive: !wasActive)
        }
    }

    /// Acts on one item while active. The default passes it on.
    func process(_ item: StreamItem) {
        self.emit(item)
    }

    /// Called after the fault's attributes changed while active, or when the stage became active.
    func configurationChanged(becameActive: Bool) {}

    /// Stops timers and returns the items this stage holds, in order, so they can go on without further delay.
    func drain() -> [StreamItem] {
        []
    }

    /// Stops timers and forgets held items: the connection is closing.
    func cancel() {}
}
