import EthCrypto
import Foundation
import TestSupport
import Testing
import Whisper

/// Times, topics and keys on the command line: read exactly as written or refused as a usage error (exit 2) that
/// names the flag, never guessed.
@Suite("CLI: strict times, topics and keys")
struct StrictArgumentTests {
    /// 2024-05-01T12:00:00Z.
    static let noon: UInt32 = 1_714_564_800
    /// 2024-05-01T00:00:00Z.
    static let midnight: UInt32 = 1_714_521_600

    /// Accepted forms and the second each one means.
    static let accepted: [(String, UInt32)] = [
        ("2024-05-01T12:00:00Z", noon),
        ("2024-05-01t12:00:00z", noon),
        ("2024-05-01T12:00:00.999Z", noon),
        ("2024-05-01T12:00:00.5+00:00", noon),
        ("2024-05-01T14:00:00+02:00", noon),
        ("2024-05-01T06:30:00-05:30", noon),
        ("2024-05-02T00:00:00+12:00", noon),
        ("2024-05-01", midnight),
        ("1714564800", noon),
        ("1714521600", midnight),
        ("2024-02-29", 1_709_164_800),
        ("1970-01-01T00:00:01Z", 1),
        ("2106-02-07T06:28:10Z", UInt32.max - 5),
    ]

    /// An archive holding envelopes sent one second before, at and one second after each accepted time.
    static func makeArchive(in dir: URL) async throws -> URL {
        var seconds = Set<UInt32>()
        for (_, s) in accepted { seconds.formUnion([s - 1, s, s + 1]) }
        let envelopes = seconds.sorted().enumerated().map { i, sent in
            Envelope(expiry: sent + 1, ttl: 1, topic: Topic(rawValue: 0x0102_0304), data: [UInt8(i & 0xFF), UInt8(i >> 8)], nonce: UInt64(i))
        }
        let file = dir.appendingPathComponent("in.rlp")
        try Data(envelopes.flatMap(\.rlp)).write(to: file)
        let archive = dir.appendingPathComponent("archive")
        let r = try await CLI.run(["import", "--archive", archive.path, file.path])
        #expect(r.status == 0, "\(r.stderr)")
        return archive
    }

    /// The sent times of the envelopes `export --from T --to T` selects.
    static func exportedSentTimes(_ archive: URL, from: String, to: String, dir: URL) async throws -> [UInt32] {
        let out = dir.appendingPathComponent("out-\(UUID().uuidString).jsonl")
        let r = try await CLI.run(["export", "--archive", archive.path, "--format", "jsonl", "--output", out.path, "--from", from, "--to", to])
        #expect(r.status == 0, "\(from): \(r.stderr)")
        guard r.status == 0 else { return [] }
        return try String(contentsOf: out, encoding: .utf8).split(separator: "\n").map { line in
            let r = try #require(line.range(of: "\"sent\":"), "\(line)")
            return try #require(UInt32(line[r.upperBound...].prefix { $0.isNumber }), "\(line)")
        }
    }

    @Test func everyAcceptedFormMeansExactlyItsSecond() async throws {
        let dir = try CLI.temporaryDirectory("wa-time")
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = try await Self.makeArchive(in: dir)
        for (text, second) in Self.accepted {
            // --from T --to T (inclusive) selects the envelope sent at T and neither neighbour.
            let got = try await Self.exportedSentTimes(archive, from: text, to: text, dir: dir)
            #expect(got == [second], "\(text) should mean \(second), selected \(got)")
        }
    }

    /// Forms that a lenient parser read as some time; each is refused.
    static let refused: [String] = [
        "2024-05-01T12:00",  // no seconds, no zone (read as midnight before)
        "2024-05-01 12:00:00",  // a space for T
        "2024-05-01T12:00:00",  // no zone
        "2024-05-01garbage",  // trailing text
        "2024-05-01T12:00:00Zjunk",
        "2024-05-01T12:00:00+0200",  // offset without a colon
        "2024-05-01T12:00:00+02",
        "2024-05-01T12:00:00.Z",  // a point without digits
        "2024-05-01T24:00:00Z",
        "2024-05-01T12:60:00Z",
        "2024-05-01T12:00:60Z",
        "2024-02-30",
        "2023-02-29",
        "2024-13-01",
        "2024-5-1",
        "24-05-01",
        "+1714564800",
        "-1",
        "1714564800.5",
        "4294967296",  // past UInt32
        "2106-02-07T06:28:16Z",  // past UInt32
        "1969-12-31T23:59:59Z",  // before 1970
        "1970-01-01T00:00:00+00:01",  // before 1970 through the offset
        "now",
        "",
    ]

    @Test func everyRefusedFormExitsTwoNamingTheFlagAndTheAcceptedForms() async throws {
        let dir = try CLI.temporaryDirectory("wa-time")
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = dir.appendingPathComponent("never-created").path
        for text in Self.refused {
            let r = try await CLI.run([
                "export", "--archive", archive, "--format", "jsonl", "--output", dir.appendingPathComponent("o").path,
                "--from=\(text)",
            ])
            #expect(r.status == 2, "\(text): \(r.status) \(r.stderr)")
            Self.expectOneLine(r.stderr, naming: "--from", "\(text)")
            // An empty value is argument-parser's "missing value"; every other refusal names the accepted forms.
            if !text.isEmpty { #expect(r.stderr.contains("RFC 3339") && r.stderr.contains("Unix seconds"), "\(text): \(r.stderr)") }
        }
        // Every command that takes a time refuses the same way, naming its own flag.
        let peer = "enode://\(String(repeating: "ab", count: 64))@127.0.0.1:1"
        let commands: [([String], String)] = [
            (["export", "--archive", archive, "--format", "jsonl", "--output", "x", "--to", "2024-05-01T12:00"], "--to"),
            (["audit", "--archive", archive, "--from", "2024-05-01T12:00:00"], "--from"),
            (["compact", "--archive", archive, "--before", "2024-05-01garbage"], "--before"),
            (["replay", "--archive", archive, "--peer", peer, "--to", "2024-05-01 12:00:00"], "--to"),
            (["request", "--peer", peer, "--from", "yesterday"], "--from"),
        ]
        for (args, flag) in commands {
            let r = try await CLI.run(args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            Self.expectOneLine(r.stderr, naming: flag, "\(args)")
        }
        #expect(!FileManager.default.fileExists(atPath: archive))
    }

    @Test func malformedTopicsAndKeysAreUsageErrorsNamingTheFlag() async throws {
        let dir = try CLI.temporaryDirectory("wa-keys")
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = dir.appendingPathComponent("never-created").path
        let envelope = "d1845f5e10323284f26e777984deadbeef80"
        let cases: [([String], String)] = [
            (["seal", "--topic", "0102", "--payload", "x", "--password", "p"], "--topic"),
            (["seal", "--topic", "0102030405", "--payload", "x", "--password", "p"], "--topic"),
            (["seal", "--topic", "zz020304", "--payload", "x", "--password", "p"], "--topic"),
            (["seal", "--topic", "01020304", "--payload", "x", "--sym-key", "00"], "--sym-key"),
            (["seal", "--topic", "01020304", "--payload", "x", "--sym-key", String(repeating: "g", count: 64)], "--sym-key"),
            (["seal", "--topic", "01020304", "--payload", "x", "--public-key", "0011"], "--public-key"),
            (["seal", "--topic", "01020304", "--payload", "x", "--public-key", String(repeating: "00", count: 64)], "--public-key"),
            (["inspect", envelope, "--sym-key", "00"], "--sym-key"),
            (["audit", "--archive", archive, "--sym-key", "abc"], "--sym-key"),
            (["audit", "--archive", archive, "--topic", "0x01"], "--topic"),
            (["export", "--archive", archive, "--format", "jsonl", "--output", "x", "--topic", "f26e77"], "--topic"),
            (["compact", "--archive", archive, "--drop-topic", "nope"], "--drop-topic"),
            (["request", "--peer", "enode://\(String(repeating: "ab", count: 64))@127.0.0.1:1", "--topic", "1"], "--topic"),
        ]
        for (args, flag) in cases {
            let r = try await CLI.run(args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            Self.expectOneLine(r.stderr, naming: flag, "\(args)")
        }
        #expect(!FileManager.default.fileExists(atPath: archive))
    }

    @Test func numbersThatAreNoNumberOfSecondsOrRateAreUsageErrors() async throws {
        let dir = try CLI.temporaryDirectory("wa-numbers")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gen = try await CLI.run(["keygen", "--output", dir.appendingPathComponent("k").path])
        let publicKey = try #require(gen.stdout.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
        let peer = "enode://\(publicKey)@127.0.0.1:1"
        let archive = dir.appendingPathComponent("never-created").path
        let cases: [([String], String)] = [
            (["replay", "--archive", archive, "--peer", peer, "--rate", "nan"], "--rate"),
            (["replay", "--archive", archive, "--peer", peer, "--from", "2024-05-02", "--to", "2024-05-01"], "--from"),
            (["request", "--peer", peer, "--timeout", "inf"], "--timeout"),
            (["request", "--peer", peer, "--pow", "nan"], "--pow"),
            (["request", "--peer", peer, "--from", "2024-05-02", "--to", "2024-05-01"], "--from"),
            (["request", "--peer", peer, "--dialect", "legacy", "--all"], "--from"),
        ]
        for (args, flag) in cases {
            let r = try await CLI.run(args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            Self.expectOneLine(r.stderr, naming: flag, "\(args)")
        }
    }

    @Test func compactRefusesRetentionOfZeroDaysAndKeepsTheArchive() async throws {
        let dir = try CLI.temporaryDirectory("wa-compact")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sealed = try await CLI.run(["seal", "--topic", "01020304", "--payload", "keep me", "--password", "pw", "--pow", "0"])
        #expect(sealed.status == 0, "\(sealed.stderr)")
        let file = dir.appendingPathComponent("one.rlp")
        try Data(try Hex.decode(sealed.stdout)).write(to: file)
        let archive = dir.appendingPathComponent("archive").path
        #expect(try await CLI.run(["import", "--archive", archive, file.path]).status == 0)

        let r = try await CLI.run(["compact", "--archive", archive, "--retention-days", "0"])
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        Self.expectOneLine(r.stderr, naming: "--retention-days", "compact")
        let out = dir.appendingPathComponent("out.jsonl")
        let e = try await CLI.run(["export", "--archive", archive, "--format", "jsonl", "--output", out.path])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(try String(contentsOf: out, encoding: .utf8).split(separator: "\n").count == 1, "the envelope must still be there")
    }

    /// One line on standard error that names `flag`.
    static func expectOneLine(_ stderr: String, naming flag: String, _ context: String) {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "\(context): \(stderr)")
        #expect(stderr.contains(flag), "\(context): \(stderr)")
    }
}
