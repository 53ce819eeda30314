import Foundation

/// A private temporary directory holding a copy of a source that its library would otherwise write to when it
/// opens it (libleveldb always does; SQLite does to replay a WAL or roll back a journal). Immutable files are
/// hard-linked where the file system allows it, the rest copied; the directory is removed when this is released.
final class PrivateCopy {
    /// The temporary directory.
    let directory: String
    /// The source, for error messages.
    let source: String

    /// Creates an empty private directory for a copy of `source`.
    init(of source: String, kind: String) throws(FormatError) {
        self.source = source
        var temporary = NSTemporaryDirectory()
        while temporary.count > 1 && temporary.hasSuffix("/") { temporary.removeLast() }
        var template = Array((temporary + "/whisper-archive-\(kind)-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw FormatError(
                .io,
                path: temporary,
                "cannot create a temporary directory for a private copy of \(source): \(String(cString: strerror(errno)))"
            )
        }
        directory = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Links `file` (a file that is never modified in place) into the copy as `name`, or copies it when linking
    /// fails (another file system, a read-only mount).
    func link(_ file: String, as name: String) throws(FormatError) {
        if Foundation.link(file, directory + "/" + name) == 0 { return }
        try copy(file, as: name)
    }

    /// Copies `file` into the copy as `name`, reading it only.
    func copy(_ file: String, as name: String) throws(FormatError) {
        let input = try FileProbe.openForReading(file)
        defer { close(input) }
        let target = directory + "/" + name
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw FileProbe.error(target, errno: errno, "cannot create a private copy") }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FormatError(.io, path: file, offset: offset, "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return }
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, n - written) }
                if w < 0 {
                    if errno == EINTR { continue }
                    throw FormatError(.io, path: target, "cannot write the private copy: \(String(cString: strerror(errno)))")
                }
                written += w
            }
            offset += Int64(n)
        }
    }
}
