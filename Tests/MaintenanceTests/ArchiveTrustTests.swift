import ArchiveStore
import ArchiveTestSupport
import Foundation
import TestSupport
import Testing
import Whisper

/// What an investigator testifies to: reading an archive changes none of its files, a command that fails changes
/// nothing, and no archive is made where there was none.
@Suite("Archive trust")
struct ArchiveTrustTests {
    /// The commands that only read, with `ARCHIVE` and `OUT` (a fresh output path) to fill in.
    static let readers: [[String]] = [
        ["export", "--archive", "ARCHIVE", "--format", "rlp", "--output", "OUT"],
        ["export", "--archive", "ARCHIVE", "--format", "jsonl", "--output", "-"],
        ["verify", "--archive", "ARCHIVE"],
        ["verify", "--archive", "ARCHIVE", "--full"],
        ["audit", "--archive", "ARCHIVE", "--json"],
        ["compact", "--archive", "ARCHIVE", "--retention-days", "1", "--dry-run"],
        ["reindex", "--archive", "ARCHIVE", "--check"],
    ]

    static func fill(_ args: [String], archive: String, out: String) -> [String] {
        args.map { $0 == "ARCHIVE" ? archive : $0 == "OUT" ? out : $0 }
    }

    @Test("reading commands leave every file of the archive as it was")
    func readersWriteNothing() async throws {
        let f = try await Fixture.build(600)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let before = try DirectorySnapshot(f.archive)
        for (i, args) in Self.readers.enumerated() {
            let r = try await CLI.run(Self.fill(args, archive: f.archive, out: f.dir.path + "/out\(i)"))
            #expect(r.status == 0, "\(args.joined(separator: " ")): \(r.stderr)")
            #expect(try DirectorySnapshot(f.archive) == before, "\(args.joined(separator: " ")) changed the archive")
        }
    }

    @Test("reading commands work on a read-only archive")
    func readersWorkReadOnly() async throws {
        let f = try await Fixture.build(600)
        defer {
            try? DirectorySnapshot.setReadOnly(f.archive, false)
            try? FileManager.default.removeItem(at: f.dir)
        }
        try DirectorySnapshot.setReadOnly(f.archive, true)
        let before = try DirectorySnapshot(f.archive)
        for (i, args) in Self.readers.enumerated() {
            guard let r = try await CLI.runReadOnly(f.archive, Self.fill(args, archive: f.archive, out: f.dir.path + "/ro\(i)")) else { return }
            #expect(r.status == 0, "\(args.joined(separator: " ")): \(r.stderr)")
        }
        #expect(try DirectorySnapshot(f.archive) == before)
    }

    @Test("reading commands work beside a running serve")
    func readersBesideServe() async throws {
        let f = try await Fixture.build(600)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let server = try await ServerProcess(archive: URL(fileURLWithPath: f.archive), arguments: ["--min-pow", "0"])
        defer { server.terminate() }
        for (i, args) in Self.readers.enumerated() {
            let r = try await CLI.run(Self.fill(args, archive: f.archive, out: f.dir.path + "/live\(i)"))
            #expect(r.status == 0, "\(args.joined(separator: " ")): \(r.stderr)")
        }
        let export = try await CLI.run(["export", "--archive", f.archive, "--format", "jsonl", "--output", "-"])
        #expect(export.stdout.split(separator: "\n").count == 600)
    }

    /// The files of an archive whose writer was killed: copied while the writer is open, with its index rows
    /// committed only to the log and a torn write at the end of the active segment.
    @Test("a killed writer's archive is read whole and left as it was, torn tail and all")
    func killedWritersArchive() async throws {
        let dir = try CLI.temporaryDirectory("wa-killed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let live = dir.path + "/live"
        let copy = dir.path + "/copy"
        let envelopes = StoreEnvelopes.make(300)
        let writer = try Archive(directory: live)
        _ = try await writer.append(envelopes)
        _ = try writer.count()  // the writer's rows committed (to its log), as a second of serving does
        try FileManager.default.copyItem(atPath: live, toPath: copy)
        writer.close()
        #expect(FileManager.default.fileExists(atPath: copy + "/index.sqlite-wal"))
        let active = copy + "/segments/" + (try ArchiveSnapshot.segmentFiles(copy)).last!
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: active))
        try h.seekToEnd()
        try h.write(contentsOf: Array("WBLK torn".utf8))
        try h.close()

        let before = try DirectorySnapshot(copy)
        let r = try await CLI.run(["export", "--archive", copy, "--format", "jsonl", "--output", "-"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count == 300)
        #expect(r.stderr.contains("torn tail") && r.stderr.contains(URL(fileURLWithPath: active).lastPathComponent), "\(r.stderr)")
        #expect(try DirectorySnapshot(copy) == before, "export changed the killed writer's archive")
        let v = try await CLI.run(["verify", "--archive", copy, "--full"])
        #expect(try DirectorySnapshot(copy) == before, "verify changed the killed writer's archive")
        #expect(v.stdout.contains("torn-tail"), "\(v.stdout)")
    }

    @Test("serve that fails to start (its metrics port is taken) leaves no new archive, and an existing one as it was")
    func failedServeLeavesNothingBehind() async throws {
        let dir = try CLI.temporaryDirectory("wa-trust")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A port that is taken: a listener of our own.
        let busy = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(busy) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(busy, $0, length) } }
        #expect(listen(busy, 1) == 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(busy, $0, &length) } }
        let metrics = "127.0.0.1:\(UInt16(bigEndian: address.sin_port))"

        let missing = dir.appendingPathComponent("new").path
        let r = try await CLI.run(["serve", "--archive", missing, "--listen", "127.0.0.1:0", "--metrics", metrics])
        #expect(r.status == 1 && r.stderr.contains("address already in use"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing), "serve left the archive it created")
        let empty = dir.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(try await CLI.run(["serve", "--archive", empty, "--listen", "127.0.0.1:0", "--metrics", metrics]).status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
        // An archive that was there stays, byte for byte.
        let existing = dir.appendingPathComponent("existing").path
        let samples = Vectors.repositoryRoot.appendingPathComponent("Samples/envelopes.rlp").path
        #expect(try await CLI.run(["import", "--archive", existing, samples]).status == 0)
        let before = try DirectorySnapshot(existing)
        #expect(try await CLI.run(["serve", "--archive", existing, "--listen", "127.0.0.1:0", "--metrics", metrics]).status == 1)
        let after = try DirectorySnapshot(existing)
        #expect(Set(after.entries.keys).isSuperset(of: before.entries.keys.filter { !$0.hasSuffix(".lock") }), "\(after)")
        #expect(FileManager.default.fileExists(atPath: existing + "/node.key") || !before.entries.keys.contains("node.key"))
    }

    @Test("serve and import create an archive only in a missing or empty directory", arguments: ["leveldb", "file", "unreadable"])
    func noArchiveWhereSomethingElseIs(_ kind: String) async throws {
        let dir = try CLI.temporaryDirectory("wa-foreign")
        defer {
            chmod(dir.path + "/target", 0o755)
            try? FileManager.default.removeItem(at: dir)
        }
        let target = dir.path + "/target"
        switch kind {
        case "leveldb":
            try FileManager.default.copyItem(
                at: Vectors.repositoryRoot.appendingPathComponent("Samples/mail-leveldb"),
                to: URL(fileURLWithPath: target)
            )
        case "file":
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            try Data("notes".utf8).write(to: URL(fileURLWithPath: target + "/notes.txt"))
        default:
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            chmod(target, 0o700)
        }
        let before = try DirectorySnapshot(target)
        let sample = Vectors.repositoryRoot.appendingPathComponent("Samples/mail.rlp").path
        let commands = [
            ["import", "--archive", target, sample], ["serve", "--archive", target, "--listen", "127.0.0.1:0"],
            ["reindex", "--archive", target], ["compact", "--archive", target, "--retention-days", "30"],
        ]
        for args in commands {
            let r: CLI.Result
            if kind == "unreadable" {
                // Root reads any directory: the unreadable case runs as an unprivileged user.
                guard getuid() == 0 else { return }
                r = try await CLI.tool(
                    URL(fileURLWithPath: "/usr/bin/setpriv"),
                    ["--reuid=65534", "--regid=65534", "--clear-groups", CLI.binary.path] + args
                )
            } else {
                r = try await CLI.run(args)
            }
            #expect(r.status == 1, "\(args[0]): \(r.status) \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(target), "\(args[0]): \(r.stderr)")
            switch kind {
            case "leveldb": #expect(r.stderr.contains("LevelDB"), "\(r.stderr)")
            case "file": #expect(r.stderr.contains("notes.txt") || r.stderr.contains("no MANIFEST"), "\(r.stderr)")
            default: #expect(r.stderr.contains("permission denied"), "\(r.stderr)")
            }
            #expect(try DirectorySnapshot(target) == before, "\(args[0]) wrote into \(kind)")
        }
    }

    @Test("commands that need an archive never create one")
    func noArchiveFromNothing() async throws {
        let dir = try CLI.temporaryDirectory("wa-none")
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.path + "/missing"
        for args in [
            ["reindex", "--archive", missing], ["reindex", "--archive", missing, "--check"],
            ["compact", "--archive", missing, "--retention-days", "30"], ["verify", "--archive", missing, "--repair"],
            ["export", "--archive", missing, "--format", "rlp", "--output", dir.path + "/x.rlp"],
        ] {
            let r = try await CLI.run(args)
            #expect(r.status == 1, "\(args.joined(separator: " ")): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: missing), "\(args.joined(separator: " ")) created \(missing)")
        }
    }

    @Test("reindex rebuilds an index that is missing, empty, truncated or random bytes", arguments: ["missing", "empty", "truncated", "random"])
    func reindexRebuilds(_ damage: String) async throws {
        let f = try await Fixture.build(600)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let expected = try ArchiveSnapshot.exportedHashes(f.archive)
        let index = f.archive + "/index.sqlite"
        switch damage {
        case "missing": try FileManager.default.removeItem(atPath: index)
        case "empty": try Data().write(to: URL(fileURLWithPath: index))
        case "truncated":
            let bytes = try Data(contentsOf: URL(fileURLWithPath: index))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: index))
        default: try Data((0..<65536).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: index))
        }
        if damage == "random" {
            // Until then, export and serve say what to run, naming the file.
            let export = try await CLI.run(["export", "--archive", f.archive, "--format", "rlp", "--output", f.dir.path + "/x.rlp"])
            #expect(export.status == 1)
            #expect(export.stderr.contains(index) && export.stderr.contains("reindex"), "\(export.stderr)")
            let serve = try await CLI.run(["serve", "--archive", f.archive, "--listen", "127.0.0.1:0"])
            #expect(serve.status == 1)
            #expect(serve.stderr.contains(index) && serve.stderr.contains("reindex"), "\(serve.stderr)")
        }
        let r = try await CLI.run(["reindex", "--archive", f.archive])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try ArchiveSnapshot.exportedHashes(f.archive) == expected)
        #expect(try await CLI.run(["reindex", "--archive", f.archive, "--check"]).status == 0)
        let aside = try FileManager.default.contentsOfDirectory(atPath: f.archive)
            .filter { $0.hasPrefix("index.sqlite.bad-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
        #expect(aside.count == (damage == "missing" ? 0 : 1), "\(aside)")
    }

    @Test("repair that cannot read a segment changes nothing")
    func repairOfAnUnreadableArchive() async throws {
        guard getuid() == 0 else { return }
        let f = try await Fixture.build(600)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let segments = try ArchiveSnapshot.segmentFiles(f.archive)
        try Fixture.flip(f.archive + "/segments/" + segments[1], at: 100)
        // The archive belongs to an unprivileged user, except one segment only root can read.
        _ = try await CLI.tool(URL(fileURLWithPath: "/bin/chown"), ["-R", "65534:65534", f.dir.path])
        _ = try await CLI.tool(URL(fileURLWithPath: "/bin/chown"), ["0:0", f.archive + "/segments/" + segments[2]])
        chmod(f.archive + "/segments/" + segments[2], 0o600)
        // The lock file records the pid of the last writer that took it: it is no archive content.
        func content() throws -> DirectorySnapshot {
            var s = try DirectorySnapshot(f.archive)
            s.entries["./LOCK"] = nil
            s.contents["./LOCK"] = nil
            return s
        }
        let before = try content()
        let r = try await CLI.tool(
            URL(fileURLWithPath: "/usr/bin/setpriv"),
            ["--reuid=65534", "--regid=65534", "--clear-groups", CLI.binary.path, "verify", "--archive", f.archive, "--repair"]
        )
        #expect(r.status & 64 == 0 && r.status & 1 == 1, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains(segments[2]), "\(r.stderr)")
        #expect(try content() == before, "a failed repair changed the archive")
    }

    @Test("repair killed at any point leaves the old or the new archive")
    func repairSurvivesSIGKILL() async throws {
        let f = try await Fixture.build(1500)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let segments = try ArchiveSnapshot.segmentFiles(f.archive)
        for s in [1, 3] { try Fixture.flip(f.archive + "/segments/" + segments[s], at: 200) }
        let original = try await Fixture.verify(f.archive)
        let damage = Set(original.findings.map { "\($0.kind ?? "") \($0.file ?? "") \($0.start ?? -1)" })
        #expect(!damage.isEmpty)
        let pristine = f.dir.path + "/pristine"
        try FileManager.default.copyItem(atPath: f.archive, toPath: pristine)
        var outcomes: [String: Int] = [:]
        let nothing = f.dir.path + "/nothing.rlp"
        _ = FileManager.default.createFile(atPath: nothing, contents: Data())
        for round in 0..<20 {
            let work = f.dir.path + "/round\(round)"
            try FileManager.default.copyItem(atPath: pristine, toPath: work)
            defer { try? FileManager.default.removeItem(atPath: work) }
            // Kill it after a delay that walks through the repair's run (5 ms to 290 ms; a whole run takes about
            // 100 ms to 200 ms here), so that some rounds stop before its commit and some after.
            let delay = 5_000 + round * 15_000
            let script =
                "\"$0\" verify --archive \"$1\" --repair >/dev/null 2>&1 & p=$!; "
                + "sleep \(Double(delay) / 1e6); kill -9 $p 2>/dev/null; wait $p; exit 0"
            _ = try await CLI.tool(URL(fileURLWithPath: "/bin/sh"), ["-c", script, CLI.binary.path, work])
            // Whatever was left opens (a writer open finishes or rolls back the repair) and verifies as either
            // the old archive (the same findings) or the new one (clean).
            let reopen = try await CLI.run(["import", "--archive", work, nothing])
            #expect(reopen.status == 0, "round \(round): \(reopen.stderr)")
            let v = try await Fixture.verify(work)
            let found = Set(v.findings.map { "\($0.kind ?? "") \($0.file ?? "") \($0.start ?? -1)" })
            #expect(v.status == 0 || found == damage, "round \(round): \(found)")
            outcomes[v.status == 0 ? "new" : "old", default: 0] += 1
            let finish = try await Fixture.verify(work, ["--repair"])
            #expect(finish.status == 0 || finish.status & 64 == 64)
            #expect(try await Fixture.verify(work, ["--full"]).status == 0, "round \(round): not clean after the repair finished")
        }
        print("repair SIGKILL rounds: \(outcomes)")
    }
}

/// Envelopes for store-level tests that need no particular shape.
enum StoreEnvelopes {
    static func make(_ count: Int) -> [Envelope] {
        (0..<count).map { i in
            Envelope(
                expiry: 1_700_000_000 + UInt32(i) + 60,
                ttl: 60,
                topic: Topic(rawValue: 0x2000_0000 + UInt32(i % 3)),
                data: Array(repeating: UInt8(i & 0xFF), count: 64 + i % 50),
                nonce: UInt64(i)
            )
        }
    }
}
