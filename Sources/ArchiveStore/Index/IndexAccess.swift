import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a reader opens an archive's index without writing a byte of the archive.
///
/// - `shared`: a writer runs (here or in another process); ordinary read-only connections share its
///   write-ahead log.
/// - `immutable`: no writer runs; the file is read as it is (SQLite's `immutable=1`: no locks, no `-wal` or
///   `-shm` created).
/// - `privateCopy`: the file as it is would not tell the truth (a writer stopped without checkpointing its
///   log, or without indexing its last blocks, or the index is missing); the reader works on a copy in a
///   temporary directory of its own, brought up to date there, and removed when the archive closes.
enum IndexAccess: Sendable {
    case shared(path: String)
    case immutable(path: String)
    case privateCopy(PrivateIndexCopy)

    /// The file connections open.
    var path: String {
        switch self {
        case .shared(let p), .immutable(let p): return p
        case .privateCopy(let c): return c.path
        }
    }

    /// The index of `directory` as it is, for a check that reports on it (verify): shared beside a running
    /// writer; otherwise immutable, or a private copy when the writer left committed changes in its log (the
    /// copy takes them in), so that what is checked is what a writer would see. Holds `presence` meanwhile.
    static func asStored(directory: String, presence: WriterPresence) throws(ArchiveError) -> IndexAccess {
        let path = directory + "/" + ArchiveIndex.fileName
        if case .writerRunning = presence { return .shared(path: path) }
        var st = stat()
        guard stat(path + "-wal", &st) == 0, st.st_size > 0 else { return .immutable(path: path) }
        let copy = try PrivateIndexCopy(archive: directory)
        // The first read-write connection takes the log in; closing it checkpoints it into the copy.
        try ArchiveIndex.takeInLog(path: copy.path)
        return .privateCopy(copy)
    }

    /// Opens one read-only connection.
    func open() throws(ArchiveError) -> ArchiveIndex {
        switch self {
        case .shared(let p): return try ArchiveIndex(path: p, readOnly: true)
        case .immutable(let p): return try ArchiveIndex(path: p, readOnly: true, immutable: true)
        case .privateCopy(let c): return try ArchiveIndex(path: c.path, readOnly: true)
        }
    }
}

/// A reader's own copy of an index, in a directory it created under `TMPDIR`; deleted with the last reference.
final class PrivateIndexCopy: @unchecked Sendable {
    let directory: String
    var path: String { directory + "/" + ArchiveIndex.fileName }

    /// Copies `index.sqlite` and its `-wal` (when present) from `archive`, or makes an empty directory when the
    /// archive has no index.
    init(archive: String) throws(ArchiveError) {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/whisper-archive-index-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            let e = errno
            throw ArchiveError(.io, "cannot create a private copy of the index: \(String(cString: strerror(e)))", path: base, errno: e)
        }
        directory = String(cString: made)
        let source = archive + "/" + ArchiveIndex.fileName
        do {
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: source + suffix) {
                try PrivateIndexCopy.copy(source + suffix, to: path + suffix)
            }
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    private func remove() {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
        rmdir(directory)
    }

    /// Copies a file's bytes (read-only on the source side).
    static func copy(_ from: String, to: String) throws(ArchiveError) {
        let input = open(from, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            let e = errno
            throw ArchiveError(.io, "cannot read: \(String(cString: strerror(e)))", path: from, errno: e)
        }
        defer { close(input) }
        let output = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else {
            let e = errno
            throw ArchiveError(.io, "cannot create: \(String(cString: strerror(e)))", path: to, errno: e)
        }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n == 0 { return }
            guard n > 0 else {
                let e = errno
                throw ArchiveError(.io, "cannot read: \(String(cString: strerror(e)))", path: from, errno: e)
            }
            var done = 0
            while done < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress! + done, n - done) }
                guard w > 0 else {
                    let e = errno
                    throw ArchiveError(.io, "cannot write: \(String(cString: strerror(e)))", path: to, errno: e)
                }
                done += w
            }
        }
    }
}
