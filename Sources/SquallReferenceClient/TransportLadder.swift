/// The rule of a client's ladder of transports, for scenario files and `squall client --transports` alike: at least
/// one rung, each of `websocket`, `sse` and `polling` at most once, `polling` (when there) last.
public enum TransportLadder {
    /// What is wrong with a ladder: at which rung (nil: the ladder as a whole), what was expected, what was found.
    public struct Problem: Error, Sendable, Hashable {
        /// The rung's index, or nil for the whole ladder.
        public var index: Int?
        /// What a valid ladder has there.
        public var expected: String
        /// What this one has.
        public var found: String
    }

    /// The transports' names, quoted, for messages.
    public static let names = HybridClientStateMachine.Transport.allCases.map { "\"\($0.rawValue)\"" }
        .joined(separator: ", ")

    /// Reads a ladder from its rungs' names.
    public static func parse(_ rungs: [String]) -> Result<[HybridClientStateMachine.Transport], Problem> {
        guard !rungs.isEmpty else {
            return .failure(
                Problem(
                    index: nil,
                    expected: "a non-empty list of transports, tried in order (\(Self.names))",
                    found: "none"
                )
            )
        }
        var ladder: [HybridClientStateMachine.Transport] = []
        for (index, name) in rungs.enumerated() {
            guard let transport = HybridClientStateMachine.Transport(rawValue: name) else {
                return .failure(Problem(index: index, expected: "one of \(Self.names)", found: "\"\(name)\""))
            }
            guard !ladder.contains(transport) else {
                return .failure(Problem(index: index, expected: "each transport once", found: "\"\(name)\" again"))
            }
            guard ladder.last != .polling else {
                return .failure(
                    Problem(
                        index: index,
                        expected: "nothing after \"polling\" (the last rung: a client that polls never steps further)",
                        found: "\"\(name)\""
                    )
                )
            }
            ladder.append(transport)
        }
        return .success(ladder)
    }
}
