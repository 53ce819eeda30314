import ArchiveFormats
import ArchiveStore
import Foundation
import TestSupport
import Testing
import Whisper

/// `export --output` and `serve --enode-file`: what happens to the file, device or FIFO they are given.
@Suite("Outputs")
struct OutputTests {
    /// A temporary directory with an archive of 50 envelopes (arrival times known).
    static func archive() async throws -> (dir: String, archive: String) {
        let dir = try FormatFixtures.tempDir()
        let envs = FormatFixtures.envelopes(50, seed: 3)
        let a = try Archive(directory: dir + "/a")
        _ = try await a.append(envs, arrivals: envs.map { $0.sentTime + 2 })
        a.close()
        return (dir, dir + "/a")
    }

    /// The device number of /dev/null (major 1, minor 3).
    static let devNull = dev_t(1 << 8 | 3)

    static func fileType(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
    }

    @Test func exportRefusesAnExistingFileUnlessForced() async throws {
        let (dir, a) = try await Self.archive()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reference = try await CLI.run(["export", "--archive", a, "--format", "rlp", "--output", dir + "/ref.rlp"])
        #expect(reference.status == 0, "\(reference.stderr)")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: dir + "/out.rlp"))
        let refused = try await CLI.run(["export", "--archive", a, "--format", "rlp", "--output", dir + "/out.rlp"])
        #expect(refused.status == 1)
        #expect(refused.stderr == "whisper-archive: error: \(dir)/out.rlp exists; pass --force to replace it\n", "\(refused.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/out.rlp")) == Data("precious".utf8))
        let forced = try await CLI.run(["export", "--archive", a, "--format", "rlp", "--output", dir + "/out.rlp", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/out.rlp")) == Data(contentsOf: URL(fileURLWithPath: dir + "/ref.rlp")))
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["a", "out.rlp", "ref.rlp"])
    }

    @Test func exportToStandardOutput() async throws {
        let (dir, a) = try await Self.archive()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await CLI.run(["export", "--archive", a, "--format", "jsonl", "--output", dir + "/ref.jsonl"])
        let r = try await CLI.run(["export", "--archive", a, "--format", "jsonl", "--output", "-"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Data(r.stdoutBytes) == (try Data(contentsOf: URL(fileURLWithPath: dir + "/ref.jsonl"))))
        #expect(r.stderr.contains("exported 50 envelopes"))
        #expect(!FileManager.default.fileExists(atPath: "-"))
    }

    @Test func exportWritesADeviceAndAFIFOInPlace() async throws {
        let (dir, a) = try await Self.archive()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await CLI.run(["export", "--archive", a, "--format", "rlp", "--output", dir + "/ref.rlp"])
        let reference = try Data(contentsOf: URL(fileURLWithPath: dir + "/ref.rlp"))
        if mknod(dir + "/null", S_IFCHR | 0o666, Self.devNull) == 0 {
            let r = try await CLI.run(["export", "--archive", a, "--format", "rlp", "--output", dir + "/null"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(Self.fileType(dir + "/null") == S_IFCHR, "still a character device")
        } else {
            print("SKIPPED: mknod is not permitted here (\(String(cString: strerror(errno)))); the device output is not tested")
        }
        #expect(mkfifo(dir + "/pipe", 0o666) == 0)
        async let reader = CLI.tool(URL(fileURLWithPath: "/bin/cat"), [dir + "/pipe"])
        let r = try await CLI.run(["export", "--archive", a, "--format", "rlp", "--output", dir + "/pipe"])
        let read = try await reader
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.fileType(dir + "/pipe") == S_IFIFO, "still a FIFO")
        #expect(Data(read.stdoutBytes) == reference)
    }

    @Test func leveldbOutputRefusesADirectoryOfSomethingElse() async throws {
        let (dir, a) = try await Self.archive()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/photos", withIntermediateDirectories: true)
        try Data("jpeg".utf8).write(to: URL(fileURLWithPath: dir + "/photos/1.jpg"))
        let r = try await CLI.run(["export", "--archive", a, "--format", "leveldb", "--output", dir + "/photos"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("not empty and not a LevelDB database (no CURRENT): \(dir)/photos"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/photos") == ["1.jpg"])
    }

    @Test func jsonlRoundTripKeepsArrivals() async throws {
        let (dir, a) = try await Self.archive()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e = try await CLI.run(["export", "--archive", a, "--format", "jsonl", "--output", dir + "/x.jsonl"])
        #expect(e.status == 0, "\(e.stderr)")
        let text = try String(contentsOfFile: dir + "/x.jsonl", encoding: .utf8)
        #expect(text.split(separator: "\n").allSatisfy { $0.contains("\"arrival\":") })
        let i = try await CLI.run(["import", "--archive", dir + "/b", dir + "/x.jsonl"])
        #expect(i.status == 0, "\(i.stderr)")
        func arrivals(_ path: String) throws -> [[UInt8]: UInt32] {
            let archive = try Archive(directory: path, configuration: .reader)
            defer { archive.close() }
            var out: [[UInt8]: UInt32] = [:]
            try archive.scan { out[$0.rlp] = $0.arrival ?? 0 }
            return out
        }
        let original = try arrivals(a)
        #expect(original.count == 50 && !original.values.contains(0))
        #expect(try arrivals(dir + "/b") == original)
    }

    @Test func serveWritesItsEnodeIntoADeviceInPlace() async throws {
        let dir = try FormatFixtures.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard mknod(dir + "/null", S_IFCHR | 0o666, Self.devNull) == 0 else {
            print("SKIPPED: mknod is not permitted here (\(String(cString: strerror(errno)))); serve --enode-file onto a device is not tested")
            return
        }
        let server = try await ServerProcess(archive: URL(fileURLWithPath: dir + "/a"), arguments: ["--enode-file", dir + "/null"])
        // The enode file is written before the server waits for signals: once stopped, it has been written.
        let status = await server.stop()
        #expect(status == 0)
        #expect(Self.fileType(dir + "/null") == S_IFCHR, "still a character device")
        let regular = try await ServerProcess(archive: URL(fileURLWithPath: dir + "/a"), arguments: ["--enode-file", dir + "/enode"])
        #expect(await regular.stop() == 0)
        #expect(try String(contentsOfFile: dir + "/enode", encoding: .utf8) == regular.enode + "\n")
    }

    /// An --enode-file in a directory that does not exist: a usage error before the archive is created or the enode
    /// announced. (One that cannot be written for another reason stops serve with status 1 before the enode line.)
    @Test func serveFailsOnAnEnodeFileItCannotWrite() async throws {
        let dir = try FormatFixtures.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try await CLI.run(["serve", "--archive", dir + "/a", "--listen", "127.0.0.1:0", "--enode-file", dir + "/no-such-directory/enode"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("--enode-file: no such directory: \(dir)/no-such-directory"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir + "/a"))
        // A directory in its place: writing fails, serve exits 1 and has printed no enode.
        try FileManager.default.createDirectory(atPath: dir + "/taken", withIntermediateDirectories: true)
        let taken = try await CLI.run(["serve", "--archive", dir + "/b", "--listen", "127.0.0.1:0", "--enode-file", dir + "/taken"])
        #expect(taken.status == 1, "\(taken.stderr)")
        #expect(taken.stderr.contains("cannot write the enode file"), "\(taken.stderr)")
        #expect(!taken.stdout.contains("enode://"), "\(taken.stdout)")
    }
}
