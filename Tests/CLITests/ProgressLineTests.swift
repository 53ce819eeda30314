import EthCrypto
import Foundation
import TestSupport
import Testing
import Whisper

/// Progress on a terminal: totals and an ETA for import, export, verify, compact and reindex; nothing when piped.
@Suite("CLI: progress lines", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
struct ProgressLineTests {
    /// Runs the binary on a pseudo-terminal (util-linux `script`) and returns what the terminal showed.
    static func onTerminal(_ arguments: [String]) async throws -> (status: Int32, text: String) {
        let command = ([CLI.binary.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let r = try await CLI.tool(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"])
        return (r.status, r.stdout)
    }

    @Test("each long command shows its share done and an ETA on a terminal, and stays quiet when piped")
    func totalsAndETA() async throws {
        let dir = try CLI.temporaryDirectory("wa-progress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let now = currentUnixTime()
        let envelopes = (0..<3000).map { i in
            Envelope(expiry: now - 86_400 * 10 + UInt32(i * 200) + 60, ttl: 60, topic: Topic(rawValue: UInt32(i % 7)), data: SecureRandom.bytes(200), nonce: UInt64(i))
        }
        let file = dir.appendingPathComponent("in.rlp")
        try Data(envelopes.flatMap(\.rlp)).write(to: file)
        let archive = dir.appendingPathComponent("a").path
        let cutoff = String(now - 86_400 * 5)
        let commands: [[String]] = [
            ["import", "--archive", archive, file.path],
            ["export", "--archive", archive, "--format", "jsonl", "--output", dir.appendingPathComponent("out.jsonl").path],
            ["verify", "--archive", archive, "--full"],
            ["reindex", "--archive", archive],
            ["compact", "--archive", archive, "--before", cutoff],
        ]
        for command in commands {
            let shown = try await Self.onTerminal(command)
            #expect(shown.status == 0, "\(command): \(shown.text)")
            #expect(shown.text.contains("ETA "), "\(command[0]) showed no ETA: \(shown.text)")
            #expect(shown.text.contains("%") || shown.text.contains("/"), "\(command[0]) showed no total: \(shown.text)")
        }
        // Piped: the same commands say only their summary.
        try FileManager.default.removeItem(atPath: archive)
        for command in commands {
            var piped = command
            if command[0] == "export" { piped.append("--force") }
            let r = try await CLI.run(piped)
            #expect(r.status == 0, "\(command): \(r.stderr)")
            #expect(!r.stderr.contains("\r") && !r.stderr.contains("ETA"), "\(command[0]) drew progress into a pipe: \(r.stderr)")
        }
    }
}
