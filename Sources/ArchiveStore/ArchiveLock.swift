#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The writer lock: an exclusive `flock` on `DIR/LOCK`, which holds the owner's pid.
final class ArchiveLock: @unchecked Sendable {
    let fd: Int32

    init(directory: String) throws(ArchiveError) {
        let path = directory + "/LOCK"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let e = errno
            throw ArchiveError(.io, "cannot open the lock file", path: path, errno: e)
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var buf = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buf, 32, 0)
            // Readers hold the lock shared: if a shared lock is to be had, no writer holds it.
            let readersOnly = flock(fd, LOCK_SH | LOCK_NB) == 0
            close(fd)
            let pid = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).trimmingWhitespace : "unknown"
            throw ArchiveError(
                .locked,
                readersOnly
                    ? "archive \(directory) is being read (export, verify, audit or another reader); try again when it is done"
                    : "archive \(directory) is in use by process \(pid)",
                path: path
            )
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, text, text.count, 0)
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// What a reader found of the writer lock: a running writer, or none, in which case the reader holds the lock
/// shared (so no writer starts while it reads) when the lock file exists. Opens `DIR/LOCK` read-only: never
/// creates it.
enum WriterPresence {
    case writerRunning
    case noWriter(ReaderLock?)

    static func probe(directory: String) -> WriterPresence {
        let fd = open(directory + "/LOCK", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .noWriter(nil) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { return .noWriter(ReaderLock(fd: fd)) }
        let e = errno
        close(fd)
        // Only a writer's exclusive lock refuses a shared one; where locks do not work, nothing is known to run.
        return e == EWOULDBLOCK ? .writerRunning : .noWriter(nil)
    }
}

/// A shared hold on `DIR/LOCK`, released with the last reference.
final class ReaderLock: @unchecked Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
