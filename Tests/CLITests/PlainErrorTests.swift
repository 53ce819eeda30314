import EthCrypto
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Failures through the binary: one line in plain words naming the file or the peer, exit 1, never a dump of a
/// Foundation or NIO error.
@Suite("CLI: plain error lines")
struct PlainErrorTests {
    /// Text that only a type dump would put in a message.
    static let dumps = ["Error Domain", "NSCocoaErrorDomain", "NSPOSIXErrorDomain", "NIO", "Failure(", "IOError", "connectionRefused", "RLPx:"]

    static func expectPlain(_ r: CLI.Result, naming subject: String, words: String, _ context: String) {
        #expect(r.status == 1, "\(context): exit \(r.status): \(r.stderr)")
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "\(context): \(r.stderr)")
        #expect(r.stderr.contains(subject), "\(context): \(r.stderr)")
        #expect(r.stderr.contains(words), "\(context): \(r.stderr)")
        for d in dumps { #expect(!r.stderr.contains(d), "\(context): \(r.stderr)") }
    }

    /// A loopback port with nothing listening (bound, then closed).
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    @Test func missingFilesDirectoriesAndRefusedConnectionsAreOnePlainLine() async throws {
        let dir = try CLI.temporaryDirectory("wa-errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("no-such-file").path
        let folder = dir.appendingPathComponent("a-folder").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let keyFile = dir.appendingPathComponent("node.key").path
        let gen = try await CLI.run(["keygen", "--output", keyFile])
        #expect(gen.status == 0, "\(gen.stderr)")
        let publicKey = try #require(gen.stdout.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
        let port = try Self.closedPort()
        let peer = "127.0.0.1:\(port)"
        let seal = ["seal", "--topic", "01020304", "--payload", "x", "--password", "p", "--pow", "0"]

        let cases: [([String], String, String)] = [
            (seal + ["--sign-with", missing], missing, "no such file"),
            (seal + ["--sign-with", folder], folder, "is a directory"),
            (["seal", "--topic", "01020304", "--payload", "@" + missing, "--password", "p"], missing, "no such file"),
            (["seal", "--topic", "01020304", "--payload", "@" + folder, "--password", "p"], folder, "is a directory"),
            (["inspect", "d1845f5e10323284f26e777984deadbeef80", "--private-key", missing], missing, "no such file"),
            (["inspect", "--file", missing], missing, "no such file"),
            (["inspect", "--file", folder], folder, "is a directory"),
            (["keygen", "--output", dir.appendingPathComponent("none/node.key").path], "none/node.key", "no such file"),
            (
                ["serve", "--archive", dir.appendingPathComponent("s").path, "--listen", "127.0.0.1:0", "--password-file", missing], missing,
                "no such file"
            ),
            (
                ["serve", "--archive", dir.appendingPathComponent("s").path, "--listen", "127.0.0.1:0", "--node-key", folder], folder,
                "is a directory"
            ),
            (["request", "--peer", "enode://\(publicKey)@\(peer)", "--timeout", "10"], peer, "connection refused"),
            (["request", "--peer", "enode://\(publicKey)@\(peer)", "--all", "--node-key", missing], missing, "no such file"),
        ]
        for (args, subject, words) in cases {
            Self.expectPlain(try await CLI.run(args), naming: subject, words: words, "\(args)")
        }
        // replay reports the refusal per peer on standard output, and fails.
        let archive = dir.appendingPathComponent("archive")
        let sealed = try await CLI.run(seal)
        try Data(try Hex.decodeForTest(sealed.stdout)).write(to: dir.appendingPathComponent("one.rlp"))
        #expect(try await CLI.run(["import", "--archive", archive.path, dir.appendingPathComponent("one.rlp").path]).status == 0)
        let replay = try await CLI.run(["replay", "--archive", archive.path, "--peer", "enode://\(publicKey)@\(peer)"])
        #expect(replay.status == 1)
        #expect(replay.stdout.contains("connection refused: \(peer)"), "\(replay.stdout)")
        for d in Self.dumps { #expect(!(replay.stdout + replay.stderr).contains(d), "\(replay.stdout) \(replay.stderr)") }
    }

    @Test func unreadableFilesArePermissionDeniedNamingTheFile() async throws {
        let dir = try CLI.temporaryDirectory("wa-errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyFile = dir.appendingPathComponent("secret.key").path
        #expect(try await CLI.run(["keygen", "--output", keyFile]).status == 0)
        let payload = dir.appendingPathComponent("payload.bin").path
        try Data("private".utf8).write(to: URL(fileURLWithPath: payload))
        chmod(payload, 0o600)
        let password = dir.appendingPathComponent("password").path
        try Data("pw\n".utf8).write(to: URL(fileURLWithPath: password))
        chmod(password, 0o600)
        // As root, modes do not stop reads: run as nobody, who may enter the directory but not read the files.
        var prefix: [String] = []
        if getuid() == 0 {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                print("SKIPPED unreadableFilesArePermissionDeniedNamingTheFile: running as root without setpriv to drop privileges")
                return
            }
            prefix = ["--reuid=65534", "--regid=65534", "--clear-groups", CLI.binary.path]
            chmod(dir.path, 0o755)
            // serve may create its archive (it reads the password file after opening it).
            try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("s").path, withIntermediateDirectories: true)
            chmod(dir.appendingPathComponent("s").path, 0o777)
        } else {
            for f in [keyFile, payload, password] { chmod(f, 0) }
        }
        func run(_ args: [String]) async throws -> CLI.Result {
            prefix.isEmpty ? try await CLI.run(args) : try await CLI.tool(URL(fileURLWithPath: "/usr/bin/setpriv"), prefix + args)
        }
        let probe = try await run(["--version"])
        guard probe.status == 0 else {
            print("SKIPPED unreadableFilesArePermissionDeniedNamingTheFile: the unprivileged user cannot run the binary: \(probe.stderr)")
            return
        }
        let seal = ["seal", "--topic", "01020304", "--payload", "x", "--password", "p", "--pow", "0"]
        let cases: [([String], String)] = [
            (seal + ["--sign-with", keyFile], keyFile),
            (["seal", "--topic", "01020304", "--payload", "@" + payload, "--password", "p"], payload),
            (["inspect", "--file", payload], payload),
            (["serve", "--archive", dir.appendingPathComponent("s").path, "--listen", "127.0.0.1:0", "--password-file", password], password),
            (["keygen", "--output", dir.appendingPathComponent("new.key").path], dir.appendingPathComponent("new.key").path),
        ]
        for (args, subject) in cases {
            Self.expectPlain(try await run(args), naming: subject, words: "permission denied", "\(args)")
        }
    }
}

extension Hex {
    /// Hex of a command's output line.
    static func decodeForTest(_ text: String) throws -> [UInt8] { try decode(text.trimmingCharacters(in: .whitespacesAndNewlines)) }
}
