import Foundation

/// Runs the built `squall` executable as a child process, as a user would, for end-to-end CLI tests.
public final class SquallProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipes are only touched through their own thread-safe APIs; the collected
    // output is guarded by `lock`.
    private let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let lock = NSLock()
    private var collectedOutput = Data()

    /// The path of the built executable: next to the test bundle, or in `.build/debug` of the package.
    public static var executablePath: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [testBinary.appendingPathComponent("squall").path]
        var directory = testBinary
        for _ in 0..<4 {
            directory = directory.deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent("squall").path)
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/squall").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }

    /// Starts `squall` with `arguments`, and `environment` added to this process's.
    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        self.process.executableURL = URL(fileURLWithPath: Self.executablePath)
        self.process.arguments = arguments
        if !environment.isEmpty {
            self.process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        }
        self.process.standardOutput = self.output
        self.process.standardError = self.errors
        self.output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            self.collectedOutput.append(data)
            self.lock.unlock()
        }
        try self.process.run()
    }

    /// Standard output so far.
    public var standardOutput: String {
        self.lock.lock()
        defer { self.lock.unlock() }
        return String(decoding: self.collectedOutput, as: UTF8.self)
    }

    /// The child's process id.
    public var processIdentifier: Int32 {
        self.process.processIdentifier
    }

    /// Sends a signal, e.g. `SIGTERM`.
    public func signal(_ number: Int32) {
        kill(self.process.processIdentifier, number)
    }

    /// Waits up to `timeout` seconds for the process to exit; kills it (SIGKILL) if it does not.
    ///
    /// - Returns: the exit status and standard error.
    public func waitForExit(timeout: Double = 20) async -> (status: Int32, standardError: String) {
        let deadline = Date().addingTimeInterval(timeout)
        while self.process.isRunning && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if self.process.isRunning {
            // SIGKILL, not SIGTERM: a process that did not stop in time may be the very one ignoring SIGTERM.
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
            return (-1, "timed out")
        }
        self.process.waitUntilExit()
        let errors = String(decoding: self.errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (self.process.terminationStatus, errors)
    }

    /// Whether the process is still running.
    public var isRunning: Bool {
        self.process.isRunning
    }

    /// Runs `squall` to completion while starving it from outside: the whole process is stopped (SIGSTOP) for
    /// `stall` once every `period`, then continued — every event loop of its harness lags, as on an overloaded
    /// machine, with no switch in the binary. `during` limits the starving to that stretch of the process's life
    /// (from its start); by default it lasts from 150 ms on to the end.
    public static func runStarved(
        _ arguments: [String],
        stall: Duration = .milliseconds(300),
        period: Duration = .seconds(1),
        during: Range<Duration> = Duration.milliseconds(150)..<Duration.seconds(1_000_000),
        timeout: Double = 60
    ) async throws -> (status: Int32, output: String, errors: String) {
        let clock = ContinuousClock()
        let started = clock.now
        let process = try SquallProcess(arguments)
        let starver = Task {
            try? await clock.sleep(until: started + during.lowerBound)
            while process.isRunning, !Task.isCancelled, clock.now - started < during.upperBound {
                process.signal(SIGSTOP)
                try? await Task.sleep(for: stall)
                process.signal(SIGCONT)
                try? await Task.sleep(for: period - stall)
            }
        }
        let (status, errors) = await process.waitForExit(timeout: timeout)
        starver.cancel()
        process.signal(SIGCONT)
        try? await Task.sleep(for: .milliseconds(50))
        return (status, process.standardOutput, errors)
    }

    /// Runs `squall` to completion.
    public static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        timeout: Double = 60
    ) async throws -> (status: Int32, output: String, errors: String) {
        let process = try SquallProcess(arguments, environment: environment)
        let (status, errors) = await process.waitForExit(timeout: timeout)
        try? await Task.sleep(for: .milliseconds(50))
        return (status, process.standardOutput, errors)
    }
}
