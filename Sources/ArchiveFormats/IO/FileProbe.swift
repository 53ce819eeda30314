import Foundation

/// stat(2) and open(2) for inputs and outputs, with errors that keep a missing file apart from an unreadable one.
enum FileProbe {
    /// What a path names (symbolic links followed).
    enum Kind: Equatable {
        case regular
        case directory
        /// A character or block device, a FIFO or a socket.
        case special
    }

    /// The error for a failed system call on `path`: ENOENT is a missing file, EACCES and EPERM a denied one.
    static func error(_ path: String, errno code: Int32, _ doing: String = "") -> FormatError {
        switch code {
        case ENOENT, ENOTDIR: return FormatError(.missingFile, path: path, headline: "no such file or directory")
        case EACCES, EPERM: return FormatError(.permissionDenied, path: path, headline: "permission denied")
        case EROFS: return FormatError(.io, path: path, headline: "read-only file system")
        default:
            let reason = String(cString: strerror(code))
            return FormatError(.io, path: path, doing.isEmpty ? reason : "\(doing): \(reason)")
        }
    }

    /// The status of `path`, or nil when it does not exist.
    static func status(_ path: String) throws(FormatError) -> stat? {
        var st = stat()
        if stat(path, &st) == 0 { return st }
        let code = errno
        if code == ENOENT || code == ENOTDIR { return nil }
        throw error(path, errno: code)
    }

    /// The kind of an existing `path`, or nil when it does not exist.
    static func kind(_ path: String) throws(FormatError) -> Kind? {
        guard let st = try status(path) else { return nil }
        return kind(of: st)
    }

    static func kind(of st: stat) -> Kind {
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        default: return .special
        }
    }

    /// The size of a regular file at `path`, or nil when it does not exist.
    static func size(_ path: String) throws(FormatError) -> Int64? {
        try status(path).map { Int64($0.st_size) }
    }

    /// Opens `path` read-only (never creating it).
    static func openForReading(_ path: String) throws(FormatError) -> Int32 {
        while true {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { return fd }
            if errno != EINTR { throw error(path, errno: errno) }
        }
    }

    /// The names in directory `path` (without `.` and `..`).
    static func names(inDirectory path: String) throws(FormatError) -> [String] {
        guard let dir = opendir(path) else { throw error(path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
