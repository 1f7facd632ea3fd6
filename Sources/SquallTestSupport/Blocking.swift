import NIOPosix

/// Runs blocking socket work off Swift's cooperative threads, so a test waiting on a socket never starves the
/// others (the machine has two cores).
public func blocking<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await NIOThreadPool.singleton.runIfActive(body)
}
