import Foundation

/// A `whisper-archive serve` child process on a loopback port.
public final class ServerProcess: @unchecked Sendable {
    /// The process.
    public let process: Process
    /// The enode URL it printed first.
    public let enode: String
    /// Standard error so far is collected here.
    let errPipe: Pipe

    /// Starts `serve --archive DIR --listen 127.0.0.1:0 ARGS` and waits for its enode line (on a thread of its own,
    /// see ``blocking(_:)``).
    public convenience init(archive: URL, arguments: [String] = [], environment: [String: String] = [:]) async throws {
        try await self.init(archiveArgument: archive.path, arguments: arguments, environment: environment)
    }

    /// Starts `serve --archive VALUE --listen 127.0.0.1:0 ARGS` for a directory or a `postgres://` URL.
    public init(archiveArgument archive: String, arguments: [String] = [], environment: [String: String] = [:]) async throws {
        let started = try await blocking { () throws -> Started in
            let p = Process()
            p.executableURL = CLI.binary
            if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
            p.arguments = ["serve", "--archive", archive, "--listen", "127.0.0.1:0"] + arguments
            let out = Pipe()
            let err = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
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
                throw VectorError("serve did not print its enode: \(String(decoding: err.fileHandleForReading.availableData, as: UTF8.self))")
            }
            return Started(process: p, enode: String(decoding: line[..<nl], as: UTF8.self), errPipe: err)
        }
        process = started.process
        enode = started.enode
        errPipe = started.errPipe
    }

    private struct Started: @unchecked Sendable {
        var process: Process
        var enode: String
        var errPipe: Pipe
    }

    /// Sends `signal` and waits for the exit status; a server still running after `timeout` seconds is killed
    /// (SIGKILL) and reported as status -1, so that a server that fails to stop fails the test instead of hanging it.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 20) -> Int32 {
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

    /// Everything the server wrote to standard error; call it only once the process has exited (it reads to EOF).
    public func stderrAfterExit() -> String {
        String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
