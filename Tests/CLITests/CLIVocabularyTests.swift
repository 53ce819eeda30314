import EthCrypto
import Foundation
import TestSupport
import Testing

/// One vocabulary across the commands: `--password-file` beside every `--password`, `--private-key` for message
/// keys, hex with or without `0x`, and shell completions that complete paths.
@Suite("CLI: one vocabulary, completions")
struct CLIVocabularyTests {
    @Test("seal --password-file and --private-key, then inspect and audit --password-file open it")
    func passwordFilesEverywhere() async throws {
        let dir = try CLI.temporaryDirectory("wa-vocabulary")
        defer { try? FileManager.default.removeItem(at: dir) }
        let passwordFile = dir.appendingPathComponent("password").path
        try "status-offline-inbox\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let keyFile = dir.appendingPathComponent("signer.key").path
        #expect(try await CLI.run(["keygen", "--output", keyFile]).status == 0)
        let sealed = try await CLI.run([
            "seal", "--topic", "0xf26e7779", "--payload", "hello", "--password-file", passwordFile, "--private-key", keyFile, "--pow", "0.001",
        ])
        #expect(sealed.status == 0, "\(sealed.stderr)")
        let rlp = sealed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(rlp.hasPrefix("0x"), "hex is printed with 0x: \(rlp.prefix(10))")
        // Accepted with and without 0x.
        for hex in [rlp, String(rlp.dropFirst(2))] {
            let opened = try await CLI.run(["inspect", hex, "--password-file", passwordFile])
            #expect(opened.status == 0 && opened.stdout.contains("\"hello\""), "\(opened.stderr)")
            #expect(opened.stdout.contains("signed   yes"), "\(opened.stdout)")
        }
        let both = try await CLI.run(["inspect", rlp, "--password", "x", "--password-file", passwordFile])
        #expect(both.status == 2, "\(both.stderr)")
        let missing = try await CLI.run(["inspect", rlp, "--password-file", dir.appendingPathComponent("nope").path])
        #expect(missing.status == 1 && missing.stderr.contains("cannot read the password file"), "\(missing.stderr)")

        let file = dir.appendingPathComponent("one.rlp")
        try Data(try Hex.decode(rlp)).write(to: file)
        let archive = dir.appendingPathComponent("a").path
        #expect(try await CLI.run(["import", "--archive", archive, file.path]).status == 0)
        let audit = try await CLI.run(["audit", "--archive", archive, "--password-file", passwordFile, "--json"])
        #expect(audit.status == 0 || audit.status == 1, "\(audit.stderr)")
        #expect(audit.stdout.contains("password-file password"), "\(audit.stdout.prefix(400))")
    }

    @Test("replay --node-key: the peer sees the identity it would trust, not a fresh key")
    func replayUsesTheNodeKey() async throws {
        let dir = try CLI.temporaryDirectory("wa-vocabulary")
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyFile = dir.appendingPathComponent("node.key").path
        let k = try await CLI.run(["keygen", "--output", keyFile])
        let publicKey = try #require(k.stdout.split(separator: "\n").first { $0.hasPrefix("public key: 0x") }?.dropFirst("public key: 0x".count))
        let archive = dir.appendingPathComponent("a").path
        let samples = Vectors.repositoryRoot.appendingPathComponent("Samples/envelopes.rlp").path
        #expect(try await CLI.run(["import", "--archive", archive, samples]).status == 0)
        let server = try await ServerProcess(archive: dir.appendingPathComponent("served"))
        defer { server.terminate() }
        let r = try await CLI.run(["replay", "--archive", archive, "--peer", server.enode, "--node-key", keyFile])
        #expect(r.status == 0, "\(r.stderr)")
        try await server.waitForStderr("peer=0x\(publicKey.prefix(16))")
    }

    @Test("the bash completion script completes directories for --archive and files for --file, --output, --node-key")
    func completionsCompletePaths() async throws {
        let r = try await CLI.run(["--generate-completion-script", "bash"])
        #expect(r.status == 0, "\(r.stderr)")
        func completes(_ option: String, with flag: String) -> Bool {
            r.stdout.contains("'\(option)')\n        __whisper-archive_add_completions \(flag)\n")
        }
        #expect(completes("--archive", with: "-d"))
        for option in ["--file", "--output", "--node-key", "--config", "--password-file", "--private-key"] {
            #expect(completes(option, with: "-f"), "\(option)")
        }
    }
}
