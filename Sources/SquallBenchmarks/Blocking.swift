import NIOPosix

/// Threads for blocking socket work in tests: enough that tests running in parallel, each waiting on a socket
/// with a timeout, never queue behind each other (the shared NIO pool has only one thread per core).
private let blockingPool: NIOThreadPool = {
    let pool = NIOThreadPool(numberOfThreads: 24)
    pool.start()
    return pool
}()

/// Runs blocking socket work off Swift's cooperative threads, so a test waiting on a socket never starves the
/// others (the machine has two cores).
public func blocking<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await blockingPool.runIfActive(body)
}
