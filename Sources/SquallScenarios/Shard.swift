/// Which slice of a scenario's clients one runner drives (`--shard i/N`): the clients whose index in the planned
/// timeline is `i` modulo `N`. Each client keeps its id and seed whatever `N` is, so the union of the shards is
/// exactly the unsharded run.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    /// This runner's index, from 0.
    public var index: Int
    /// How many runners share the scenario.
    public var count: Int

    /// A shard; nil unless `0 <= index < count`.
    public init?(index: Int, count: Int) {
        guard count >= 1, (0..<count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    /// Reads `i/N`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { return nil }
        self.init(index: index, count: count)
    }

    /// Whether the client at `position` in the plan's client list is this shard's.
    public func includes(clientAt position: Int) -> Bool {
        position % self.count == self.index
    }

    /// `i/N`.
    public var description: String { "\(self.index)/\(self.count)" }
}
