import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open segment (or any) file: positioned reads, appends, sync, truncate.
final class SegmentFile: @unchecked Sendable {
    let fd: Int32
    let path: String

    init(path: String, writable: Bool, create: Bool = false) throws(ArchiveError) {
        var flags = writable ? O_RDWR : O_RDONLY
        if create { flags |= O_CREAT | O_EXCL }
        flags |= O_CLOEXEC
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else {
            let e = errno
            throw ArchiveError(.io, "cannot open: \(String(cString: strerror(e)))", path: path, errno: e)
        }
        self.fd = fd
        self.path = path
    }

    private let mapLock = NSLock()
    private var mapping: Mapping?
    /// Offsets of blocks whose CRC32C was checked since the file was opened (blocks never change once written).
    private var verified = Set<Int64>()

    func isVerified(block offset: Int64) -> Bool {
        mapLock.lock()
        defer { mapLock.unlock() }
        return verified.contains(offset)
    }

    func markVerified(block offset: Int64) {
        mapLock.lock()
        verified.insert(offset)
        mapLock.unlock()
    }

    deinit { close(fd) }

    /// A read-only shared mapping of the first `length` bytes of the file.
    final class Mapping: @unchecked Sendable {
        let base: UnsafeRawPointer
        let length: Int

        init?(fd: Int32, length: Int) {
            guard length > 0, let p = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else { return nil }
            base = UnsafeRawPointer(p)
            self.length = length
        }

        deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }
    }

    /// Calls `body` with `count` bytes at `offset`, read in place from a mapping of the file (no syscall once mapped;
    /// remapped when the file has grown past the mapping). Nil when the range lies past the end of the file.
    ///
    /// Only ranges inside the file at mapping time are touched, so the mapping never faults past its end unless the
    /// file is shortened from outside while mapped.
    func withMappedBytes<T>(at offset: Int64, count: Int, _ body: (UnsafeRawBufferPointer) throws(ArchiveError) -> T) throws(ArchiveError) -> T? {
        guard offset >= 0, count >= 0 else { return nil }
        let end = Int(offset) + count
        mapLock.lock()
        var m = mapping
        if m == nil || m!.length < end {
            var st = stat()
            let size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
            if size >= end, let fresh = Mapping(fd: fd, length: size) {
                mapping = fresh
                m = fresh
            } else {
                m = nil
            }
        }
        mapLock.unlock()
        guard let m, m.length >= end else { return nil }
        return try withExtendedLifetime(m) { () throws(ArchiveError) -> T in
            try body(UnsafeRawBufferPointer(start: m.base + Int(offset), count: count))
        }
    }

    /// The current file size.
    func size() throws(ArchiveError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ioError("fstat") }
        return Int64(st.st_size)
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns the count read (short only at end of file).
    @discardableResult
    func read(into buffer: inout [UInt8], at offset: Int64) throws(ArchiveError) -> Int {
        let count = buffer.count
        var done = 0
        let fd = self.fd
        var failure: Int32 = 0
        buffer.withUnsafeMutableBytes { p in
            while done < count {
                let n = pread(fd, p.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { return }
                done += n
            }
        }
        if failure != 0 { throw ArchiveError(.io, "read failed: \(String(cString: strerror(failure)))", path: path, offset: offset, errno: failure) }
        return done
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(ArchiveError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("write", offset: offset + Int64(done))
            }
            done += n
        }
    }

    /// Writes `first` and then `second` at `offset` with one `pwritev` (one syscall for a block's header and payload).
    func write(_ first: [UInt8], _ second: [UInt8], at offset: Int64) throws(ArchiveError) {
        let total = first.count + second.count
        var done = 0
        var failure: Int32 = 0
        let fd = self.fd
        first.withUnsafeBytes { a in
            second.withUnsafeBytes { b in
                while done < total {
                    let n: Int
                    if done < a.count {
                        var iov = [
                            iovec(iov_base: UnsafeMutableRawPointer(mutating: a.baseAddress! + done), iov_len: a.count - done),
                            iovec(iov_base: UnsafeMutableRawPointer(mutating: b.baseAddress), iov_len: b.count),
                        ]
                        n = pwritev(fd, &iov, b.count == 0 ? 1 : 2, off_t(offset) + off_t(done))
                    } else {
                        n = pwrite(fd, b.baseAddress! + (done - a.count), total - done, off_t(offset) + off_t(done))
                    }
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return
                    }
                    done += n
                }
            }
        }
        if failure != 0 {
            throw ArchiveError(.io, "write failed: \(String(cString: strerror(failure)))", path: path, offset: offset + Int64(done), errno: failure)
        }
    }

    func write(_ bytes: [UInt8], at offset: Int64) throws(ArchiveError) {
        var failure: ArchiveError?
        bytes.withUnsafeBytes { p in
            do throws(ArchiveError) { try write(p, at: offset) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Flushes data (and the size) to stable storage.
    func sync() throws(ArchiveError) {
        #if os(Linux)
        guard fdatasync(fd) == 0 else { throw ioError("fdatasync") }
        #else
        guard fsync(fd) == 0 else { throw ioError("fsync") }
        #endif
    }

    func truncate(to length: Int64) throws(ArchiveError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw ioError("truncate", offset: length) }
    }

    func ioError(_ what: String, offset: Int64? = nil) -> ArchiveError {
        let e = errno
        return ArchiveError(.io, "\(what) failed: \(String(cString: strerror(e)))", path: path, offset: offset, errno: e)
    }

    /// fsyncs a directory so that renames and new files inside it are durable.
    static func syncDirectory(_ path: String) throws(ArchiveError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            throw ArchiveError(.io, "cannot open directory", path: path, errno: e)
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            let e = errno
            throw ArchiveError(.io, "fsync of directory failed", path: path, errno: e)
        }
    }
}
