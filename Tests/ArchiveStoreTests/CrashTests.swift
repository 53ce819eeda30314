import ArchiveStore
import Foundation
import TestSupport
import Testing
import Whisper

/// A child `whisper-archive import` prints `ack N` after each acknowledged batch and is killed with SIGKILL at
/// a random moment; the archive must then open, hold every acknowledged envelope, and have an index that
/// agrees with its segments.
@Suite("Crash safety", .serialized)
struct CrashTests {
    /// The last `ack N` among the complete lines of a child's output.
    static func acknowledged(_ output: Data) -> Int {
        let text = String(decoding: output, as: UTF8.self)
        let complete = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        return complete.compactMap { $0.hasPrefix("ack ") ? Int($0.dropFirst(4)) : nil }.last ?? 0
    }

    @Test func sigkillDuringImportLosesNothingAcknowledged() async throws {
        let dir = try CLI.temporaryDirectory("wa-crash").path
        let archiveDir = dir + "/archive"
        var rng = SplitMix(seed: 2024)
        var killsMidImport = 0
        for round in 0..<24 {
            let envs = StoreFixtures.envelopes(
                15000,
                sentRange: 1_600_000_000...1_600_100_000,
                topics: StoreFixtures.topics,
                size: 256,
                seed: UInt64(1000 + round)
            )
            let input = dir + "/in\(round).rlp"
            try Data(envs.flatMap(\.rlp)).write(to: URL(fileURLWithPath: input))
            let arguments = [
                "import", "--archive", archiveDir, "--batch-size", "\(Int.random(in: 20...300, using: &rng))", "--print-acks",
                "--format", "rlp", input,
            ]
            let delay = Double.random(in: 0.02...0.35, using: &rng)
            let (output, wasRunning) = try await blocking {
                let p = Process()
                p.executableURL = CLI.binary
                p.arguments = arguments
                let out = Pipe()
                p.standardOutput = out
                p.standardError = FileHandle.nullDevice
                // Read once the child is gone: its acknowledgements (one line of at most 10 bytes per batch of 20 or
                // more envelopes, under 8 KiB) fit in the pipe's buffer, so it never waits on the pipe. A readability
                // handler (a dispatch source) crashed libdispatch's manager thread once in CI.
                try p.run()
                Thread.sleep(forTimeInterval: delay)
                let wasRunning = p.isRunning
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                return (out.fileHandleForReading.readDataToEndOfFile(), wasRunning)
            }
            if wasRunning { killsMidImport += 1 }
            let acked = Self.acknowledged(output)

            // A reader first (export, audit, replay): with no writer running, it sees every acknowledged envelope,
            // including those whose index rows the killed writer had not committed yet. A child killed before it
            // wrote the MANIFEST acknowledged nothing, and there is no archive to read yet.
            if acked > 0 || FileManager.default.fileExists(atPath: archiveDir + "/MANIFEST") {
                let reader = try Archive(directory: archiveDir, configuration: .reader)
                defer { reader.close() }
                let missing = try envs.prefix(acked).filter { try !reader.contains($0) }.count
                #expect(missing == 0, "round \(round): a reader misses \(missing) of \(acked) acknowledged envelopes")
            }
            let archive = try Archive(directory: archiveDir)
            defer { archive.close() }
            for e in envs.prefix(acked) {
                #expect(try archive.contains(e), "round \(round): acknowledged envelope missing")
                let stored = try archive.envelope(for: e.key)
                #expect(stored?.rlp == e.rlp)
            }
            let report = try archive.reindex(dryRun: true)
            #expect(report.isClean, "round \(round): index differs from segments: \(report)")
        }
        #expect(killsMidImport >= 20)
    }

    /// A file size limit (`ulimit -f`, with SIGXFSZ ignored) makes the disk refuse a block part way through an
    /// import. The import fails naming the file, every acknowledged envelope stays, the refused block and the
    /// batches after it leave nothing behind, and the same archive takes the rest once the disk has room again.
    @Test func aRefusedWriteKeepsEveryAcknowledgedEnvelopeAndNothingHalfWritten() async throws {
        let dir = try CLI.temporaryDirectory("wa-refused").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let archiveDir = dir + "/archive"
        let envs = StoreFixtures.envelopes(
            6000,
            sentRange: 1_600_000_000...1_600_100_000,
            topics: StoreFixtures.topics,
            size: 1024,
            seed: 99
        )
        let input = dir + "/in.rlp"
        try Data(envs.flatMap(\.rlp)).write(to: URL(fileURLWithPath: input))

        // 4000 blocks of 512 bytes: the segment reaches the limit after about 1900 envelopes.
        let r = try await CLI.tool(
            URL(fileURLWithPath: "/bin/sh"),
            [
                "-c", "trap '' XFSZ; ulimit -f 4000; exec \"$0\" \"$@\"", CLI.binary.path,
                "import", "--archive", archiveDir, "--batch-size", "100", "--print-acks", "--format", "rlp", input,
            ]
        )
        let acked = Self.acknowledged(Data(r.stdoutBytes))
        #expect(r.status == 1)
        #expect(r.stderr.contains("File too large"), "\(r.stderr)")
        #expect(acked >= 1000 && acked < 2000, "acknowledged \(acked)")

        let verify = try Archive.verify(directory: archiveDir)
        #expect(verify.isClean, "\(verify.findings)")
        var stored = 0
        do {
            let archive = try Archive(directory: archiveDir)
            defer { archive.close() }
            #expect(archive.recovery.isClean, "nothing was left for recovery to cut: \(archive.recovery)")
            // Every acknowledged envelope is kept. A batch queued behind the refused one may still have been
            // written once the writer cut the segment back (it is smaller than the refused group): then it is
            // stored whole but not acknowledged, since acknowledgements count an unbroken prefix of the input.
            stored = try archive.count()
            #expect(stored >= acked && (stored - acked) % 100 == 0 && stored - acked <= 300, "stored \(stored), acknowledged \(acked)")
            for e in envs.prefix(acked) { #expect(try archive.contains(e)) }
            #expect(try archive.reindex(dryRun: true).isClean)
        }

        let again = try await CLI.run(["import", "--archive", archiveDir, "--format", "rlp", "--json", input])
        #expect(again.status == 0, "\(again.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
        #expect(summary?["imported"] as? Int == envs.count - stored)
        #expect(summary?["duplicates"] as? Int == stored)
        let archive = try Archive(directory: archiveDir)
        defer { archive.close() }
        #expect(try archive.count() == envs.count)
    }
}
