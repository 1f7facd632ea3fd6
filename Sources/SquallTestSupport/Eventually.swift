/// Bounded waits for tests: poll a condition until it holds or the time is up, never forever.
public enum Eventually {
    /// Polls `condition` every 10 ms for up to `timeout` seconds.
    ///
    /// - Returns: whether the condition became true in time.
    public static func wait(timeout: Double = 5, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(timeout * 1000))
        while clock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }
}
