import Foundation
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A program Squall runs for a scenario — an external server or an external client — started with
/// swift-subprocess in a process group of its own.
///
/// swift-subprocess spawns it with every other descriptor of Squall closed (the app under test never inherits a
/// proxy's socket), signal dispositions reset, and watches its exit without polling. Squall adds the rule that the
/// whole group lives no longer than the program: stopping sends SIGTERM to the group and SIGKILL to whatever is
/// left after the grace period, and when the program exits on its own, workers it left behind get the same. A
/// worker that ignores SIGTERM or keeps the output pipe open can therefore neither hold up a run nor outlive it.
package final class ChildProcess: Sendable {
    /// How a process ended.
    package enum Termination: Sendable, Hashable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// A signal ended it.
        case signalled(Int32)
        /// It ended, but its status was lost (watching it failed: the reason).
        case unknown(String)

        /// How it ended, in words (`exit status 3`, `signal 9`).
        package var description: String {
            switch self {
            case .exited(let status): "exit status \(status)"
            case .signalled(let number): "signal \(number)"
            case .unknown(let reason): "ended, status unknown (\(reason))"
            }
        }
    }

    /// Its process id (also its process group id).
    package let pid: pid_t
    /// The command line, for logs.
    let commandLine: String
    private let killed: Locked<Bool>
    private let termination: Locked<Termination?>
    private let finished: Task<(output: String, errors: String), Never>

    private init(
        pid: pid_t,
        commandLine: String,
        killed: Locked<Bool>,
        termination: Locked<Termination?>,
        finished: Task<(output: String, errors: String), Never>
    ) {
        self.pid = pid
        self.commandLine = commandLine
        self.killed = killed
        self.termination = termination
        self.finished = finished
    }

    /// Starts `arguments` (argv, no shell; the first is looked up on `PATH` unless it holds a `/`) with
    /// `environment` added to Squall's own.
    ///
    /// - Parameters:
    ///   - arguments: the program and its arguments.
    ///   - environment: variables to add.
    ///   - part: what it is, for errors (`the external server`, `client web-3`).
    ///   - grace: how long a stop waits after SIGTERM before SIGKILL.
    ///   - outputLimit: the last bytes of standard output kept for ``output()`` when `lines` is nil.
    ///   - lines: called with each line of standard output (its number from 1, its bytes without the newline)
    ///     instead of keeping it.
    /// - Throws: ``ScenarioError/startFailed(part:reason:)`` when it cannot be started.
    package static func start(
        arguments: [String],
        environment: [String: String],
        part: String,
        grace: Duration,
        outputLimit: Int = 1 << 20,
        lines: (@Sendable (Int, [UInt8]) -> Void)? = nil
    ) async throws(ScenarioError) -> ChildProcess {
        let commandLine = arguments.joined(separator: " ")
        guard let program = arguments.first, !program.isEmpty else {
            throw .startFailed(part: part, reason: "an empty command")
        }
        let executable: Executable = program.contains("/") ? .path(FilePath(program)) : .name(program)
        var options = PlatformOptions()
        options.processGroupID = 0
        // A stop cancels the run: swift-subprocess sends SIGTERM to the group, waits `grace` for the program to
        // end, then sends SIGKILL to the group.
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: grace)]
        let variables = Dictionary(
            uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) }
        )
        let (starts, started) = AsyncStream<Result<pid_t, ScenarioError>>.makeStream()
        let killed = Locked(false)
        let termination = Locked<Termination?>(nil)
        let finished = Task { () -> (output: String, errors: String) in
            let leader = Locked<pid_t>(0)
            let captured = Locked((output: "", errors: ""))
            do {
                let result = try await Subprocess.run(
                    executable,
                    arguments: Arguments(Array(arguments.dropFirst())),
                    environment: .inherit.updating(variables),
                    platformOptions: options,
                    input: .none,
                    output: .sequence,
                    error: .sequence
                ) { execution in
                    let pid = execution.processIdentifier.value
                    leader.withLock { $0 = pid }
                    started.yield(.success(pid))
                    started.finish()
                    async let errors = Self.collect(execution.standardError, limit: outputLimit)
                    var output = ""
                    if let lines {
                        await Self.readLines(execution.standardOutput, lines)
                    } else {
                        output = await Self.collect(execution.standardOutput, limit: outputLimit)
                    }
                    let read = (output: output, errors: await errors)
                    captured.withLock { $0 = read }
                }
                let ended = Self.termination(result.terminationStatus)
                if ended == .signalled(SIGKILL) { killed.withLock { $0 = true } }
                termination.withLock { $0 = ended }
            } catch {
                guard leader.withLock({ $0 }) > 0 else {
                    started.yield(.failure(.startFailed(part: part, reason: "\(commandLine): \(error)")))
                    started.finish()
                    termination.withLock { $0 = .exited(127) }
                    return ("", "")
                }
                // It started; watching it failed (or was cancelled by a stop at the wrong moment).
                termination.withLock { $0 = $0 ?? .unknown("\(error)") }
            }
            // The program has ended; members of its group it left behind do not outlive it. (In a task of its own:
            // a stop cancelled this one, and the grace period must still be waited out.)
            let group = leader.withLock { $0 }
            if await Task(operation: { await Self.stopStragglers(of: group, grace: grace) }).value {
                killed.withLock { $0 = true }
            }
            return captured.withLock { $0 }
        }
        var iterator = starts.makeAsyncIterator()
        switch await iterator.next() {
        case .success(let pid)?:
            return ChildProcess(
                pid: pid,
                commandLine: commandLine,
                killed: killed,
                termination: termination,
                finished: finished
            )
        case .failure(let error)?:
            throw error
        case nil:
            throw .startFailed(part: part, reason: "\(commandLine): did not start")
        }
    }

    /// How it ended, nil while it (or its output) is still running.
    package var exited: Termination? {
        self.termination.withLock { $0 }
    }

    /// Waits until it has ended and its output is read; nil when the calling task is cancelled first (the run
    /// ended), in which case it keeps running until ``stop()``.
    package func waitForExit() async -> Termination? {
        let (ended, signal) = AsyncStream<Void>.makeStream()
        let finished = self.finished
        let watcher = Task {
            _ = await finished.value
            signal.finish()
        }
        // Iterating an AsyncStream ends when the task is cancelled, unlike awaiting another task's value.
        for await _ in ended {}
        watcher.cancel()
        return self.exited
    }

    /// Stops it and its whole process group: SIGTERM, then SIGKILL to whatever is left after the grace period.
    /// Runs to the end even when the calling task is cancelled, since that is when a run stops its processes.
    ///
    /// - Returns: whether something had to be killed.
    @discardableResult
    package func stop() async -> Bool {
        self.finished.cancel()
        _ = await self.finished.value
        return self.killed.withLock { $0 }
    }

    /// Standard output (the last bytes up to the limit; empty when it was read line by line) and standard error,
    /// once it has ended.
    package func output() async -> (output: String, errors: String) {
        await self.finished.value
    }
}

extension ChildProcess {
    /// After the program was reaped: SIGTERM to what is left of its group, SIGKILL after `grace`; true when
    /// SIGKILL was needed.
    private static func stopStragglers(of leader: pid_t, grace: Duration) async -> Bool {
        guard leader > 0, Self.groupExists(leader) else { return false }
        kill(-leader, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        // Bounded by the grace period, and only when the program left processes behind.
        while clock.now < deadline, Self.groupExists(leader) {
            try? await clock.sleep(for: .milliseconds(20))
        }
        guard Self.groupExists(leader) else { return false }
        kill(-leader, SIGKILL)
        return true
    }

    /// Whether any process of the group (a zombie leader not yet reaped counts) is still there.
    private static func groupExists(_ pid: pid_t) -> Bool {
        kill(-pid, 0) == 0
    }

    private static func termination(_ status: TerminationStatus) -> Termination {
        switch status {
        case .exited(let code): .exited(Int32(code))
        case .signaled(let signal): .signalled(Int32(signal))
        }
    }

    /// Reads lines until the pipe closes (every writer gone).
    private static func readLines(_ output: SubprocessOutputSequence, _ body: @Sendable (Int, [UInt8]) -> Void) async {
        var number = 0
        do {
            for try await line in output.strings(bufferingPolicy: .maxLineLength(1 << 20)) {
                number += 1
                body(number, Array(line.utf8))
            }
        } catch {
            return
        }
    }

    /// Reads until the pipe closes, keeping the last `limit` bytes (with a note when some were dropped).
    private static func collect(_ output: SubprocessOutputSequence, limit: Int) async -> String {
        var kept: [UInt8] = []
        var dropped = 0
        do {
            for try await buffer in output {
                buffer.withUnsafeBytes { kept += $0 }
                if kept.count > limit {
                    dropped += kept.count - limit
                    kept.removeFirst(kept.count - limit)
                }
            }
        } catch {}
        let text = String(decoding: kept, as: UTF8.self)
        return dropped > 0 ? "[… \(dropped) earlier bytes dropped]\n" + text : text
    }
}
