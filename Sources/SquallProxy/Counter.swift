import Synchronization

/// A shareable integer counter: an `Atomic` in a class so that it can live in collections and be read live.
public final class Counter: Sendable {
    private let storage: Atomic<Int>

    /// Creates a counter starting at `value`.
    public init(_ value: Int = 0) {
        self.storage = Atomic(value)
    }

    /// The current value.
    public var value: Int {
        self.storage.load(ordering: .relaxed)
    }

    /// Adds one and returns the new value.
    @discardableResult
    public func increment() -> Int {
        self.storage.add(1, ordering: .relaxed).newValue
    }

    /// Adds `amount` (which may be negative).
    public func add(_ amount: Int) {
        self.storage.add(amount, ordering: .relaxed)
    }
}
