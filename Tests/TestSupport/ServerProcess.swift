import Foundation

/// A `whisper-archive serve` child process on a loopback port.
public final class ServerProcess: @unchecked Sendable {
    /// The process.
    public let process: Process
    /// The enode URL it printed first.
    public let enode: String
    /// Standard error goes to this file, never to a pipe: a server that logs more than a pipe holds must not block
    /// on a test that reads its log only at the end.
    public let errPath: String

    /// Starts `serve --archive DIR --listen 127.0.0.1:0 ARGS` and waits for its enode line (on a thread of its own,
    /// see ``blocking(_:)``).
    public convenience init(archive: URL, arguments: [String] = [], environment: [String: String] = [:]) async throws {
        try await self.init(archiveArgument: archive.path, arguments: arguments, environment: environment)
    }

    /// Starts `serve --archive VALUE --listen 127.0.0.1:0 ARGS` for a directory or a `postgres://` URL.
    public convenience init(archiveArgument archive: String, arguments: [String] = [], environment: [String: String] = [:]) async throws {
        try await self.init(rawArguments: ["serve", "--archive", archive, "--listen", "127.0.0.1:0"] + arguments, environment: environment)
    }

    /// Starts the binary with exactly `rawArguments` (a `serve` command line) and waits for its enode line.
    public init(rawArguments: [String], environment: [String: String] = [:]) async throws {
        let started = try await blocking { () throws -> Started in
            let p = Process()
            p.executableURL = CLI.binary
            if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
            p.arguments = rawArguments
            let out = Pipe()
            let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString).log").path
            guard FileManager.default.createFile(atPath: errPath, contents: nil), let err = FileHandle(forWritingAtPath: errPath) else {
                throw VectorError("cannot create \(errPath)")
            }
            p.standardOutput = out
            p.standardError = err
            try p.run()
            try? err.close()
            var line = [UInt8]()
            let handle = out.fileHandleForReading
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                line += chunk
                if line.contains(0x0A) { break }
            }
            guard let nl = line.firstIndex(of: 0x0A) else {
                p.terminate()
                p.waitUntilExit()
                let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
                try? FileManager.default.removeItem(atPath: errPath)
                throw VectorError("serve did not print its enode: \(text)")
            }
            return Started(process: p, enode: String(decoding: line[..<nl], as: UTF8.self), errPath: errPath)
        }
        process = started.process
        enode = started.enode
        errPath = started.errPath
    }

    private struct Started: @unchecked Sendable {
        var process: Process
        var enode: String
        var errPath: String
    }

    /// Sends `signal` and waits for the exit status; a server still running after `timeout` seconds is killed
    /// (SIGKILL) and reported as status -1, so that a server that fails to stop fails the test instead of hanging it.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 20) async -> Int32 {
        // On a thread of its own: the wait must not hold one of the cooperative pool's few threads, which every
        // other test of the process (and its NIO clients' continuations) needs meanwhile.
        (try? await blocking { self.stopWaiting(signal: signal, timeout: timeout) }) ?? -1
    }

    /// Sends SIGTERM and returns at once (for `defer`); a thread of its own reaps the server, with SIGKILL after
    /// 20 s.
    public func terminate(signal: Int32 = SIGTERM) {
        guard process.isRunning else { return }
        Thread.detachNewThread { _ = self.stopWaiting(signal: signal, timeout: 20) }
    }

    func stopWaiting(signal: Int32, timeout: Double) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }

    /// Everything the server wrote to standard error (once it exited: all of it).
    public func stderrAfterExit() -> String { stderrSoFar() }

    /// What the server wrote to standard error until now.
    public func stderrSoFar() -> String {
        (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    }

    /// Waits until standard error holds `text` `count` times or more (polling the log file), and returns it; throws
    /// after `timeout` seconds, or when the server exited first.
    @discardableResult
    public func waitForStderr(_ text: String, count: Int = 1, timeout: Double = 30) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let log = stderrSoFar()
            if log.components(separatedBy: text).count - 1 >= count { return log }
            if !process.isRunning { throw VectorError("serve exited before logging \(text) ×\(count): \(log)") }
            if Date() > deadline { throw VectorError("serve did not log \(text) ×\(count) within \(timeout) s: \(log)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: errPath)
    }
}
