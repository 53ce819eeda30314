import ArchiveStore
import EthCrypto
import Foundation
import TestSupport
import Testing
import Whisper

/// `request` asks for the window it says: --all is the whole history, the default is said out loud.
@Suite("request: the window asked for", .serialized)
struct RequestWindowTests {
    static let days: UInt32 = 30
    static let count = 300

    /// An archive of `count` envelopes sent over the last 30 days, 8640 s apart, the newest 8540 s ago; the
    /// newest 10 were sent within the last 24 hours (the oldest of them 86300 s ago).
    static func makeArchive(in dir: URL) async throws -> (URL, [Envelope]) {
        let now = currentUnixTime()
        let oldest = now - days * 86_400 + 100
        let envelopes = (0..<count).map { i in
            let sent = oldest + UInt32(i) * 8_640
            return Envelope(
                expiry: sent + 60,
                ttl: 60,
                topic: Topic(rawValue: UInt32(0xF26E_7700 + i % 3)),
                data: SecureRandom.bytes(64 + i % 50),
                nonce: UInt64(i)
            )
        }
        let file = dir.appendingPathComponent("in.rlp")
        try Data(envelopes.flatMap(\.rlp)).write(to: file)
        let archive = dir.appendingPathComponent("archive")
        let r = try await CLI.run(["import", "--archive", archive.path, file.path])
        #expect(r.status == 0, "\(r.stderr)")
        return (archive, envelopes)
    }

    static func hashes(jsonl: String) -> Set<String> {
        Set(
            jsonl.split(separator: "\n").compactMap { line in
                guard let r = line.range(of: "\"hash\":\"0x") else { return nil }
                return String(line[r.upperBound...].prefix(64))
            }
        )
    }

    @Test func allWithoutFromOrToFetchesThirtyDaysAndStoresArrivalUnknown() async throws {
        let dir = try CLI.temporaryDirectory("wa-window")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (archive, envelopes) = try await Self.makeArchive(in: dir)
        let server = try await ServerProcess(archive: archive, arguments: ["--password", "pw"])
        defer { server.terminate() }

        let copy = dir.appendingPathComponent("copy")
        let r = try await CLI.run(["request", "--peer", server.enode, "--password", "pw", "--all", "--limit", "97", "--into", copy.path])
        #expect(r.status == 0, "\(r.stderr)")
        let window = try #require(r.stderr.split(separator: "\n").first { $0.hasPrefix("whisper-archive: notice: request: window") }, "\(r.stderr)")
        #expect(window.contains("1970-01-01T00:00:00Z (0, --all"), "\(window)")
        #expect(window.contains("topics: all"), "\(window)")

        // Every envelope of the 30 days is in the copy: count them with export.
        let out = dir.appendingPathComponent("copy.jsonl")
        let e = try await CLI.run(["export", "--archive", copy.path, "--format", "jsonl", "--output", out.path])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(Self.hashes(jsonl: try String(contentsOf: out, encoding: .utf8)) == Set(envelopes.map(\.hash.hex)))

        // Only the server saw them arrive: the copy stores their arrival as 0, unknown.
        let store = try Archive(directory: copy.path, configuration: .reader)
        defer { store.close() }
        var arrivals: [UInt32] = []
        // 0 is stored; a reader may present it as nil (unknown).
        try store.scan(EnvelopeFilter()) { arrivals.append($0.arrival ?? 0) }
        #expect(arrivals.count == Self.count)
        #expect(arrivals.allSatisfy { $0 == 0 }, "arrivals: \(Set(arrivals))")
    }

    @Test func theDefaultWindowIsTheLastDayAndSaysSo() async throws {
        let dir = try CLI.temporaryDirectory("wa-window")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (archive, envelopes) = try await Self.makeArchive(in: dir)
        let server = try await ServerProcess(archive: archive, arguments: ["--password", "pw"])
        defer { server.terminate() }

        let r = try await CLI.run([
            "request", "--peer", server.enode, "--password", "pw", "--topic", "f26e7700", "--topic", "f26e7701",
            "--topic", "f26e7702",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let window = try #require(r.stderr.split(separator: "\n").first { $0.hasPrefix("whisper-archive: notice: request: window") }, "\(r.stderr)")
        #expect(window.contains("default: 24 hours ago") && window.contains("default: now"), "\(window)")
        #expect(window.contains("topics: 0xf26e7700, 0xf26e7701, 0xf26e7702"), "\(window)")
        #expect(Self.hashes(jsonl: r.stdout) == Set(envelopes.suffix(10).map(\.hash.hex)))

        // An explicit window is named as given.
        let from = String(envelopes[0].sentTime)
        let to = String(envelopes[4].sentTime)
        let w = try await CLI.run(["request", "--peer", server.enode, "--password", "pw", "--from", from, "--to", to, "--all"])
        #expect(w.status == 0, "\(w.stderr)")
        #expect(w.stderr.contains("(\(from), --from) to ") && w.stderr.contains("(\(to), --to)"), "\(w.stderr)")
        #expect(Self.hashes(jsonl: w.stdout) == Set(envelopes.prefix(5).map(\.hash.hex)))
    }
}
