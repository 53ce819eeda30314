import Foundation

/// Where a command's output file goes, by one rule for `export --output` and `serve --enode-file`:
///
/// - `-` is standard output, and a path that names the same file as standard output (`/dev/stdout`) is written
///   through it;
/// - a character or block device, a FIFO or a socket is opened and written in place, never replaced;
/// - a regular file is written to a temporary file in the same directory, fsynced, and renamed over the path
///   only by ``commit()``: an output that fails (or is released uncommitted) leaves no partial file and the old
///   file untouched. An existing regular file is replaced only when `replacing` is true; a symbolic link to one
///   stays a link and its target is replaced.
public final class OutputFile {
    /// The path as given.
    public let path: String
    /// The temporary file renamed over ``target`` on commit, for a regular-file output.
    let staged: String?
    /// The file that a regular-file output replaces (symbolic links resolved).
    let target: String
    private var fd: Int32
    private let ownsDescriptor: Bool
    private var committed = false
    private let use: Use

    /// How an output is reached.
    public enum Use {
        /// Written through a file descriptor (``write(_:)``).
        case stream
        /// A database library writes ``stagedPath`` itself: the output must be a regular file (or not exist yet).
        case database
    }

    /// Opens the output `path`.
    ///
    /// - Throws: ``FormatError`` with code `exists` for an existing regular file when `replacing` is false.
    public init(path: String, replacing: Bool, use: Use = .stream) throws(FormatError) {
        self.path = path
        self.use = use
        if path == "-" {
            guard use == .stream else { throw FormatError(.unsupported, path: path, "this format cannot be written to standard output") }
            (staged, target, fd, ownsDescriptor) = (nil, path, 1, false)
            return
        }
        var mode: mode_t = 0o666
        var resolved = path
        if let st = try FileProbe.status(path) {
            var out = stat()
            if use == .stream, fstat(1, &out) == 0, out.st_dev == st.st_dev, out.st_ino == st.st_ino {
                (staged, target, fd, ownsDescriptor) = (nil, path, 1, false)
                return
            }
            switch FileProbe.kind(of: st) {
            case .directory:
                throw FormatError(.unsupported, path: path, headline: "is a directory")
            case .special:
                guard use == .stream else { throw FormatError(.unsupported, path: path, "this format needs a regular file, not a device or FIFO") }
                let opened = open(path, O_WRONLY | O_CLOEXEC)
                guard opened >= 0 else { throw FileProbe.error(path, errno: errno, "cannot open for writing") }
                (staged, target, fd, ownsDescriptor) = (nil, path, opened, true)
                return
            case .regular:
                guard replacing else { throw FormatError(.exists, path: path, headline: "file exists") }
                mode = st.st_mode & 0o7777
                if let real = realpath(path, nil) {
                    resolved = String(cString: real)
                    free(real)
                }
            }
        }
        let url = URL(fileURLWithPath: resolved)
        let directory = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        var attempt = 0
        while true {
            let candidate = directory + "/.\(name).\(String(UInt32.random(in: 0...UInt32.max), radix: 16)).tmp"
            let opened = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if opened >= 0 {
                if mode != 0o666 { fchmod(opened, mode) }
                (staged, target, fd, ownsDescriptor) = (candidate, resolved, opened, true)
                break
            }
            attempt += 1
            if errno != EEXIST || attempt > 100 { throw FileProbe.error(path, errno: errno, "cannot create the output file") }
        }
        if use == .database {
            close(fd)
            fd = -1
        }
    }

    deinit {
        if ownsDescriptor && fd >= 0 { close(fd) }
        if !committed, let staged {
            unlink(staged)
            if use == .database { for suffix in ["-journal", "-wal", "-shm"] { unlink(staged + suffix) } }
        }
    }

    /// The file a database library should create and fill (the temporary file, for a regular output).
    public var stagedPath: String { staged ?? path }

    /// Writes all of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FormatError) {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileProbe.error(path, errno: errno, "write failed")
            }
            done += n
        }
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: [UInt8]) throws(FormatError) {
        let failure = bytes.withUnsafeBytes { raw -> FormatError? in
            do throws(FormatError) { try write(raw) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Completes the output: a regular file is fsynced and renamed over the path (its directory fsynced); a
    /// device or FIFO is closed.
    public func commit() throws(FormatError) {
        guard !committed else { return }
        if let staged {
            if fd >= 0 {
                guard fsync(fd) == 0 else { throw FileProbe.error(path, errno: errno, "cannot sync the output file") }
                close(fd)
                fd = -1
            } else {
                let opened = open(staged, O_RDONLY | O_CLOEXEC)
                if opened >= 0 {
                    _ = fsync(opened)
                    close(opened)
                }
            }
            guard rename(staged, target) == 0 else { throw FileProbe.error(path, errno: errno, "cannot rename the finished output over it") }
            committed = true
            let dir = open(URL(fileURLWithPath: target).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dir >= 0 {
                _ = fsync(dir)
                close(dir)
            }
            return
        }
        committed = true
        if ownsDescriptor && fd >= 0 {
            close(fd)
            fd = -1
        }
    }

    /// Writes `bytes` to `path` by the same rule and commits.
    public static func write(_ bytes: [UInt8], to path: String, replacing: Bool) throws(FormatError) {
        let output = try OutputFile(path: path, replacing: replacing)
        try output.write(bytes)
        try output.commit()
    }
}
