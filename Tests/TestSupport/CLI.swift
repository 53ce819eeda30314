import Foundation

/// Runs the built `whisper-archive` binary, as a user would.
public enum CLI {
    /// The result of one run.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var stdoutBytes: [UInt8]
    }

    /// The built binary: beside the test bundle (same build folder).
    public static let binary: URL = {
        var candidates: [URL] = []
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = argv0.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("whisper-archive"))
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(Vectors.repositoryRoot.appendingPathComponent(".build/debug/whisper-archive"))
        for c in candidates where FileManager.default.isExecutableFile(atPath: c.path) { return c }
        return candidates.last!
    }()

    /// Runs the binary with `arguments`, optional standard input, and waits for it on a thread of its own
    /// (see ``blocking(_:)``).
    @discardableResult
    public static func run(
        _ arguments: [String],
        stdin: [UInt8]? = nil,
        environment: [String: String]? = nil,
        currentDirectory: URL? = nil
    ) async throws -> Result {
        try await tool(binary, arguments, stdin: stdin, environment: environment, currentDirectory: currentDirectory)
    }

    /// Runs another program (sqlite3, lz4, chromium, python3) the same way.
    @discardableResult
    public static func tool(
        _ executable: URL,
        _ arguments: [String],
        stdin: [UInt8]? = nil,
        environment: [String: String]? = nil,
        currentDirectory: URL? = nil
    ) async throws -> Result {
        try await blocking {
            try runBlocking(executable, arguments, stdin: stdin, environment: environment, currentDirectory: currentDirectory)
        }
    }

    static func runBlocking(
        _ executable: URL,
        _ arguments: [String],
        stdin: [UInt8]?,
        environment: [String: String]?,
        currentDirectory: URL?
    ) throws -> Result {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let currentDirectory { p.currentDirectoryURL = currentDirectory }
        let out = Pipe()
        let err = Pipe()
        let inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin)) }
        try inp.fileHandleForWriting.close()
        // Drain both pipes concurrently so a chatty child cannot block.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(
            status: p.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self),
            stdoutBytes: Array(outData)
        )
    }

    /// A fresh temporary directory, removed by the caller when done.
    public static func temporaryDirectory(_ prefix: String = "wa-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
