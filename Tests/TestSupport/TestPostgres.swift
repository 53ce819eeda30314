import Foundation

/// The PostgreSQL server the PostgreSQL tests use: the one `WHISPER_ARCHIVE_TEST_POSTGRES` names
/// (`scripts/test` starts a throw-away cluster and sets it), or else a cluster this test process starts itself with
/// `scripts/pg-cluster` (initdb in a temporary directory, an unprivileged user, a loopback port) and removes at exit.
///
/// Each test works in a database of its own (``newDatabase()``), so that tests run in parallel.
public enum TestPostgres {
    /// The server binaries are here, or a server is named: the tests run. Otherwise they are skipped, and
    /// ``skipNotice`` says so loudly.
    public static let available: Bool = {
        if ProcessInfo.processInfo.environment["WHISPER_ARCHIVE_TEST_POSTGRES"] != nil { return true }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let found = versions.contains { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb") }
        if !found {
            FileHandle.standardError.write(
                Data(
                    """
                    !!!!!!!! SKIPPING THE POSTGRESQL TESTS: no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) \
                    and no WHISPER_ARCHIVE_TEST_POSTGRES. Install Debian's postgresql package (scripts/install-deps does). !!!!!!!!

                    """.utf8
                )
            )
        }
        return found
    }()

    /// The psql client.
    public static let psql = URL(fileURLWithPath: "/usr/bin/psql")

    /// A URL of the server's `postgres` database, logged in as a superuser with a password.
    public static func server() async throws -> String { try await Cluster.shared.url() }

    /// A new, empty database on the server; its URL.
    public static func newDatabase(_ prefix: String = "wa") async throws -> String {
        let base = try await server()
        let name = "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        try await sql(base, "CREATE DATABASE \(name)")
        return url(base, database: name)
    }

    /// `base` with another database.
    public static func url(_ base: String, database: String) -> String {
        guard let slash = base.range(of: "/", options: .backwards) else { return base }
        return String(base[..<slash.upperBound]) + database
    }

    /// Runs SQL through psql (stopping at the first error); its unaligned, tuples-only output.
    @discardableResult
    public static func sql(_ url: String, _ statements: String) async throws -> String {
        let r = try await CLI.tool(psql, ["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", url], stdin: Array(statements.utf8))
        guard r.status == 0 else { throw VectorError("psql failed (\(r.status)): \(r.stderr)\nSQL: \(statements.prefix(400))") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A cluster of its own (for tests that stop and start the server): started now, on a port of its own.
    public static func privateCluster() async throws -> PrivateCluster {
        let dir = try CLI.temporaryDirectory("wa-pg")
        try? FileManager.default.removeItem(at: dir)
        let r = try await clusterScript(["start", dir.path])
        guard r.status == 0 else { throw VectorError("scripts/pg-cluster start failed: \(r.output)") }
        return PrivateCluster(directory: dir, url: r.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A cluster a test owns.
    public struct PrivateCluster: Sendable {
        /// Its directory.
        public let directory: URL
        /// Its `postgres` database.
        public let url: String

        /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`).
        public func kill() async throws { try await run("kill") }
        /// Starts it again on the same port.
        public func restart() async throws { try await run("restart") }
        /// Stops it and removes its directory.
        public func remove() async { _ = try? await run("stop") }

        private func run(_ command: String) async throws {
            let r = try await TestPostgres.clusterScript([command, directory.path])
            guard r.status == 0 else { throw VectorError("scripts/pg-cluster \(command) failed: \(r.output)") }
        }
    }

    static let script = Vectors.repositoryRoot.appendingPathComponent("scripts/pg-cluster")

    /// Runs scripts/pg-cluster, its output (standard output, then standard error) through a file and its exit
    /// status from `waitpid`. Foundation's `Process.waitUntilExit` never returned for a script that starts the
    /// server (seen on Linux with Swift 6.3), although the script had exited.
    static func clusterScript(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await blocking { try clusterScriptWaiting(arguments) }
    }

    static func clusterScriptWaiting(_ arguments: [String]) throws -> (status: Int32, output: String) {
        do {
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("wa-pg-cluster-\(UUID().uuidString).out").path
            defer { unlink(out) }
            let pid = try Spawn.start(["/bin/bash", script.path] + arguments, output: out)
            let status = Spawn.wait(pid)
            return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
        }
    }

    /// The shared server: named by the environment, or started once per test process.
    actor Cluster {
        static let shared = Cluster()
        private var started: String?

        func url() async throws -> String {
            if let named = ProcessInfo.processInfo.environment["WHISPER_ARCHIVE_TEST_POSTGRES"] { return named }
            if let started { return started }
            // A name of its own: one made from the process ID met the leftover of a killed run with the same ID.
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wa-pg-shared-\(getpid())-\(UUID().uuidString)")
            let r = try await TestPostgres.clusterScript(["start", dir.path])
            guard r.status == 0 else { throw VectorError("scripts/pg-cluster start failed: \(r.output)") }
            sharedDirectory = dir.path
            atexit {
                guard let dir = sharedDirectory else { return }
                _ = try? TestPostgres.clusterScriptWaiting(["stop", dir])
            }
            let url = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
            started = url
            return url
        }
    }
}

/// The cluster this process started, stopped at exit.
nonisolated(unsafe) private var sharedDirectory: String?

/// The engines an acceptance test runs against: the archive directory, and PostgreSQL where a server can run.
public enum TestEngine: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The segmented log in a directory.
    case directory
    /// A database on the test PostgreSQL server.
    case postgres

    /// The engines available here (PostgreSQL is skipped loudly when it cannot run, see ``TestPostgres/available``).
    public static var available: [TestEngine] { TestPostgres.available ? allCases : [.directory] }

    public var description: String { rawValue }

    /// A new, empty archive of this engine for a test working in `dir`.
    public func makeArchive(in dir: URL, name: String = "archive") async throws -> TestArchive {
        switch self {
        case .directory:
            return TestArchive(argument: dir.appendingPathComponent(name).path, serveArguments: [])
        case .postgres:
            let url = try await TestPostgres.newDatabase()
            // A database has no directory for serve's node key: the test gives one.
            let key = dir.appendingPathComponent("\(name)-node.key").path
            let r = try await CLI.run(["keygen", "--output", key])
            guard r.status == 0 else { throw VectorError("keygen failed: \(r.stderr)") }
            return TestArchive(argument: url, serveArguments: ["--node-key", key])
        }
    }
}

/// An archive a test made: what `--archive` takes, and what `serve` needs besides.
public struct TestArchive: Sendable {
    /// The `--archive` value: a directory or a `postgres://` URL.
    public let argument: String
    /// Arguments `serve` needs for this engine (a node key file for a database).
    public let serveArguments: [String]
}
