package import Foundation

/// A process a test starts — a `parley` server, an SMTP server — with its output in a log file.
package actor ChildProcess {
    private let process: Process
    /// Where the process's standard output and error go.
    package nonisolated let logPath: String

    /// Starts `executable` with `arguments`; the environment is this process's plus `environment`.
    package init(executable: String, arguments: [String], environment: [String: String] = [:], logPath: String) throws {
        guard FileManager.default.createFile(atPath: logPath, contents: nil),
            let log = FileHandle(forWritingAtPath: logPath)
        else { throw TestSetupError("cannot write \(logPath)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The child has its own copy; this one would stay open for the rest of the test process.
        try? log.close()
        self.process = process
        self.logPath = logPath
    }

    /// The process id.
    package var pid: Int32 { process.processIdentifier }

    package var isRunning: Bool { process.isRunning }

    /// Sends `signal` (SIGTERM by default) — only while the process is still this one's child.
    package func signal(_ signal: Int32 = SIGTERM) {
        let pid = process.processIdentifier
        if process.isRunning, Self.isChild(pid) { kill(pid, signal) }
    }

    /// Whether `pid` is (still) a child of this process. Foundation reaps a child before `isRunning`
    /// turns false, and ids are reused quickly (`pid_max` may be 32768; the tests make hundreds of
    /// threads): the id may already name another process — or a thread of this one, and a SIGTERM
    /// sent there would stop every service group of every test running in this process.
    static func isChild(_ pid: Int32) -> Bool {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let nameEnd = stat.lastIndex(of: ")")
        else { return false }
        // After "pid (name)": state, then the parent's id.
        let fields = stat[stat.index(after: nameEnd)...].split(separator: " ")
        return fields.count > 1 && Int32(fields[1]) == getpid()
    }

    /// Waits for the process to end and returns its exit status; throws if it outlives `timeout`.
    package func waitForExit(timeout: Duration = .seconds(15)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw TestSetupError("process \(pid) did not exit in \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Ends the process: SIGTERM, then SIGKILL if it lingers.
    package func stop() async {
        signal(SIGTERM)
        if (try? await waitForExit(timeout: .seconds(10))) == nil {
            signal(SIGKILL)
            _ = try? await waitForExit(timeout: .seconds(5))
        }
    }

    /// Everything the process has written so far.
    package nonisolated func output() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }
}

/// Polls `probe` until it returns a value, or throws once `timeout` has passed.
@discardableResult
package func eventually<T>(
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(25),
    _ what: String,
    _ probe: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await probe() { return value }
        guard ContinuousClock.now < deadline else { throw TestSetupError("timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: interval)
    }
}

/// Paths in this repository, found from this source file's place in it.
package enum Repository {
    /// The repository root.
    package static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A file under `Tests/Fixtures`.
    package static func fixture(_ name: String) -> String {
        root.appendingPathComponent("Tests/Fixtures/\(name)").path
    }

    /// The folder of the built products of this test run, where the `parley` executable is.
    package static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// A new, empty temporary folder.
    package static func temporaryDirectory(_ prefix: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.lowercased())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Runs a command to completion and returns its exit status and standard output.
package func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
    let directory = try Repository.temporaryDirectory("parley-run")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let process = try ChildProcess(
        executable: "/usr/bin/env",
        arguments: arguments,
        environment: environment,
        logPath: "\(directory)/output"
    )
    let status = try await process.waitForExit(timeout: .seconds(60))
    return (status, process.output())
}
