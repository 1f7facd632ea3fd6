/// The problems found while reading one document or one part of it, collected so that a user sees all of them at
/// once instead of one per attempt.
///
/// A part's reader checks each of its fields through ``check(_:_:)``, which records a failure and goes on with a
/// fallback; ``throwIfAny()`` then throws the one problem, or ``FaultError/several(_:total:)`` with up to ``limit``.
/// A nested part's several problems are flattened into the outer list.
package struct ValidationErrors {
    /// The problems found so far, in the order found.
    package private(set) var errors: [FaultError] = []
    /// How many problems were found in all (more than ``errors`` holds once past the limit).
    package private(set) var total = 0
    /// The most problems kept.
    package let limit: Int

    /// An empty list keeping up to `limit` problems.
    package init(limit: Int = 20) {
        self.limit = limit
    }

    /// Records a problem (each of a nested part's several).
    package mutating func append(_ error: FaultError) {
        if case .several(let inner, let count) = error {
            for problem in inner { self.keep(problem) }
            self.total += count - inner.count
        } else {
            self.keep(error)
        }
    }

    private mutating func keep(_ error: FaultError) {
        self.total += 1
        if self.errors.count < self.limit { self.errors.append(error) }
    }

    /// Runs `body`; when it throws, records the problem and returns `fallback`.
    @discardableResult
    package mutating func check<T>(_ fallback: T, _ body: () throws(FaultError) -> T) -> T {
        do {
            return try body()
        } catch {
            self.append(error)
            return fallback
        }
    }

    /// Whether nothing was found.
    package var isEmpty: Bool { self.total == 0 }

    /// Throws what was found: the one problem, or several.
    package func throwIfAny() throws(FaultError) {
        if self.total == 1, let only = self.errors.first { throw only }
        if self.total > 1 { throw FaultError.several(self.errors, total: self.total) }
    }
}
