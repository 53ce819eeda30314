import EthCrypto
import Foundation
import TestSupport
import Testing

/// The built binary, from the outside: inspect, seal, keygen, exit codes.
@Suite("CLI: inspect, seal, keygen")
struct CoreCommandTests {
    static func whisperVectors() throws -> [String: Any] { try Vectors.object("whisper.json") }

    @Test func inspectOpensAnotherImplementationsEnvelopeAndShowsTheSigner() async throws {
        let c = try #require(try Self.whisperVectors().object("messages").objects("cases").first { $0["name"] as? String == "sym_signed_1_byte" })
        let rlp = try c.object("envelope").string("rlp")
        let password = try c.object("keys").string("password")
        let r = try await CLI.run(["inspect", rlp, "--password", password, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"payload\":\"0x2a\""))
        #expect(
            r.stdout.contains(
                "\"signer\":\"0x41bfc6f2f0ff4294287823aa47d8db7b0a2485226481b29799a8178b85dc1b0494207a4a1b86978dbd0cdbeefcf59fc35bcf5fc13222e57b163f7a5519a72f2a\""
            )
        )
        #expect(r.stdout.contains("\"hash\":\"0x\(try c.object("envelope").string("hash"))\""))
    }

    @Test func inspectOpensAsymmetricWithAPrivateKeyFile() async throws {
        let c = try #require(try Self.whisperVectors().object("messages").objects("cases").first { $0["name"] as? String == "asym_unsigned_hello" })
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyFile = dir.appendingPathComponent("recipient.key")
        try (try c.object("keys").string("recipient_private_key") + "\n").write(to: keyFile, atomically: true, encoding: .utf8)
        let r = try await CLI.run(["inspect", try c.object("envelope").string("rlp"), "--private-key", keyFile.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"hello\""))
        #expect(r.stdout.contains("signed   no"))
    }

    @Test func inspectReadsAFileOfEnvelopesAndAListPayload() async throws {
        let cases = try Self.whisperVectors().object("envelopes").objects("cases")
        let raws = try cases.map { try $0.hex("rlp") }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("all.rlp")
        try Data(raws.flatMap { $0 }).write(to: file)
        let r = try await CLI.run(["inspect", "--file", file.path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count == raws.count)
        // The same envelopes as one RLP list (a 0x7f payload).
        let payloadLength = raws.reduce(0) { $0 + $1.count }
        var list: [UInt8] = payloadLength < 56 ? [0xC0 + UInt8(payloadLength)] : [0xF9, UInt8(payloadLength >> 8), UInt8(payloadLength & 0xFF)]
        list += raws.flatMap { $0 }
        let listFile = dir.appendingPathComponent("list.rlp")
        try Data(list).write(to: listFile)
        let l = try await CLI.run(["inspect", "--file", listFile.path, "--json"])
        #expect(l.status == 0, "\(l.stderr)")
        #expect(l.stdout == r.stdout)
    }

    @Test func badInputGetsOneClearLineAndExitOne() async throws {
        let odd = try await CLI.run(["inspect", "abc"])
        #expect(odd.status == 1)
        #expect(odd.stderr.contains("odd number of digits"))

        let truncated = try await CLI.run(["inspect", "d1845f5e10323284f26e777984deadbe"])
        #expect(truncated.status == 1)
        #expect(truncated.stderr.contains("at byte"))

        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.rlp")
        let good = try Hex.decode("d1845f5e10323284f26e777984deadbeef80")
        try Data(good + good + [0xD1, 0x84]).write(to: file)
        let tail = try await CLI.run(["inspect", "--file", file.path])
        #expect(tail.status == 1)
        #expect(tail.stderr.contains("\(file.path)"))
        #expect(tail.stderr.contains("at byte 36"), "\(tail.stderr)")
        #expect(tail.stdout.contains("envelope 1"), "the valid envelopes before the damage are still shown")

        let missing = try await CLI.run(["inspect", "--file", dir.appendingPathComponent("nope").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no such file") && missing.stderr.contains("nope"), "\(missing.stderr)")

        // A malformed key on the command line is a usage error.
        let wrongKey = try await CLI.run(["inspect", "d1845f5e10323284f26e777984deadbeef80", "--sym-key", "00"])
        #expect(wrongKey.status == 2)
        #expect(wrongKey.stderr.contains("32 bytes") && wrongKey.stderr.contains("--sym-key"))
    }

    @Test func usageErrorsExitTwo() async throws {
        #expect(try await CLI.run(["inspect"]).status == 2)
        #expect(try await CLI.run(["seal", "--topic", "01020304"]).status == 2)
        #expect(try await CLI.run(["no-such-command"]).status == 2)
        #expect(try await CLI.run(["seal", "--topic", "01020304", "--payload", "x", "--password", "a", "--sym-key", "00"]).status == 2)
        // Negative budgets for serve are refused before anything is opened.
        let neg = try await CLI.run(["serve", "--archive", "/nonexistent/never-created", "--connections-per-ip", "-1"])
        #expect(neg.status == 2 && neg.stderr.contains("--connections-per-ip"), "\(neg.stderr)")
        let pen = try await CLI.run(["serve", "--archive", "/nonexistent/never-created", "--violation-penalty", "-5"])
        #expect(pen.status == 2 && pen.stderr.contains("--violation-penalty"), "\(pen.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent/never-created"))
    }

    @Test func sealThenInspectRoundTripWithSignatureAndPoW() async throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyFile = dir.appendingPathComponent("node.key").path
        let gen = try await CLI.run(["keygen", "--output", keyFile])
        #expect(gen.status == 0, "\(gen.stderr)")
        let printed = try #require(gen.stdout.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
        #expect(printed.hasPrefix("0x") && printed.count == 130, "hex is printed with 0x: \(printed)")
        let publicKey = String(printed.dropFirst(2))
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try await CLI.run(["keygen", "--output", keyFile]).status == 1, "keygen must not overwrite")

        let sealed = try await CLI.run([
            "seal", "--topic", "f26e7779", "--payload", "archive me", "--password", "pw",
            "--sign-with", keyFile, "--pow", "0.01", "--ttl", "60",
        ])
        #expect(sealed.status == 0, "\(sealed.stderr)")
        let hex = sealed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let opened = try await CLI.run(["inspect", hex, "--password", "pw", "--json"])
        #expect(opened.status == 0)
        #expect(opened.stdout.contains("\"payload\":\"0x\(Array("archive me".utf8).hex)\""))
        #expect(opened.stdout.contains("\"signer\":\"0x\(publicKey)\""))
        let powText = try #require(opened.stdout.split(separator: ",").first { $0.hasPrefix("\"pow\":") })
        #expect(try #require(Double(powText.dropFirst(6))) >= 0.01)

        // Asymmetric to the key's public key, opened with the key file.
        let asym = try await CLI.run(["seal", "--topic", "01020304", "--payload", "secret", "--public-key", publicKey, "--pow", "0"])
        #expect(asym.status == 0, "\(asym.stderr)")
        let a = try await CLI.run(["inspect", asym.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--private-key", keyFile])
        #expect(a.stdout.contains("\"secret\""))
        let wrong = try await CLI.run(["inspect", asym.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--password", "pw"])
        #expect(wrong.stdout.contains("not opened"))
    }

    @Test func everyCommandHasAnExampleInItsHelp() async throws {
        for command in ["inspect", "seal", "keygen", "bench"] {
            let r = try await CLI.run([command, "--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("whisper-archive \(command)"), "\(command) --help has no example")
        }
    }
}
