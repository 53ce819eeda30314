import Foundation
import TestSupport
import Testing

/// Inputs the fuzz targets (Fuzz/) found, replayed through the built binary: each must be reported, not crash.
@Suite("Fuzz findings: hostile import files")
struct FuzzRegressionTests {
    /// An rlp stream whose first item declares a payload of 2^63 bytes (long-form list, eight length bytes).
    static let lengthOf2To63: [UInt8] = [0xFF, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]

    static func write(_ bytes: [UInt8], named name: String) throws -> String {
        let path = try FormatFixtures.tempDir() + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(
        arguments: [
            ("2^63", lengthOf2To63),
            ("2^64-1", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            ("2^63-1 string", [0xBF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        ] as [(String, [UInt8])]
    )
    func rlpStreamWithAHugeLengthPrefixIsAnInvalidRecord(_ name: String, _ bytes: [UInt8]) async throws {
        let path = try Self.write(bytes, named: "huge-length.rlp")
        let r = try await CLI.run(["inspect", "--file", path])
        #expect(r.status == 1, "\(name): \(r.stderr)")
        #expect(r.stderr.contains(path), "\(name): \(r.stderr)")
        #expect(r.stderr.contains("at byte 0: invalid record: an item declares"), "\(name): \(r.stderr)")
        #expect(r.stderr.contains("more than any file can hold"), "\(name): \(r.stderr)")
    }

    @Test func importOfAnRLPStreamWithA2To63LengthPrefixRejectsTheRecord() async throws {
        let path = try Self.write(Self.lengthOf2To63, named: "huge-length.rlp")
        let archive = try FormatFixtures.tempDir() + "/archive"
        let r = try await CLI.run(["import", "--archive", archive, "--json", path])
        // Without --strict an invalid record is skipped and reported, and the import exits 1 (a finding).
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.contains("\"rejected\":1"), "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("\(path) at byte 0: invalid record"), "\(r.stderr)")
    }

    /// A jsonl line longer than any envelope's JSON is one rejected record, and the lines after it still import.
    @Test func jsonlLineLongerThanAnyEnvelopeIsOneRejectedRecord() async throws {
        let dir = try FormatFixtures.tempDir()
        let sample = try String(contentsOfFile: Vectors.repositoryRoot.appendingPathComponent("Samples/mail.jsonl").path, encoding: .utf8)
        let firstLine = String(sample.split(separator: "\n")[0])
        let path = dir + "/long-line.jsonl"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let junk = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<65 { try h.write(contentsOf: junk) }
        try h.write(contentsOf: Data(("\n" + firstLine + "\n").utf8))
        try h.close()
        let r = try await CLI.run(["import", "--archive", dir + "/archive", "--json", path])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("\(path):1:"), "\(r.stderr)")
        #expect(r.stderr.contains("longer than 64 MiB"), "\(r.stderr)")
        #expect(r.stdout.contains("\"imported\":1") && r.stdout.contains("\"rejected\":1"), "\(r.stdout)")
    }
}
