import Foundation

/// Every entry under a directory: path, type, size, mode, mtime (ns) and, for files, the bytes.
public struct DirectorySnapshot: Equatable, CustomStringConvertible, Sendable {
    public var entries: [String: String] = [:]
    public var contents: [String: [UInt8]] = [:]

    public init(_ root: String) throws {
        func visit(_ path: String, _ relative: String) throws {
            var st = stat()
            guard lstat(path, &st) == 0 else { throw VectorError("lstat \(path): \(errno)") }
            entries[relative] = "mode \(String(st.st_mode, radix: 8)) size \(st.st_size) mtime \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
            if st.st_mode & S_IFMT == S_IFREG {
                contents[relative] = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            } else if st.st_mode & S_IFMT == S_IFDIR {
                for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() {
                    try visit(path + "/" + name, relative + "/" + name)
                }
            }
        }
        try visit(root, ".")
    }

    public var description: String { entries.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n") }
}

extension DirectorySnapshot {
    /// chmod -R: files 0444, directories 0555 (or back to writable).
    public static func setReadOnly(_ root: String, _ readOnly: Bool) throws {
        let fm = FileManager.default
        var paths = [root]
        if let e = fm.enumerator(atPath: root) { while let p = e.nextObject() as? String { paths.append(root + "/" + p) } }
        for p in paths {
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: p, isDirectory: &isDir)
            chmod(p, isDir.boolValue ? (readOnly ? 0o555 : 0o755) : (readOnly ? 0o444 : 0o644))
        }
    }
}

extension CLI {
    /// Runs the binary so that writes into `readOnly` really fail: under a read-only bind mount in a private
    /// mount namespace, or as an unprivileged user; nil (with the reason printed) when neither is possible.
    public static func runReadOnly(_ readOnly: String, _ arguments: [String]) async throws -> CLI.Result? {
        if getuid() != 0 { return try await run(arguments) }
        let unshare = URL(fileURLWithPath: "/usr/bin/unshare")
        if FileManager.default.isExecutableFile(atPath: unshare.path) {
            let script = "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" && exec \"$@\""
            let r = try await tool(unshare, ["-m", "sh", "-c", script, readOnly, binary.path] + arguments)
            if !(r.status != 0 && r.stdout.isEmpty && (r.stderr.contains("mount") || r.stderr.contains("unshare"))) { return r }
            print("read-only mount not possible here (\(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); trying an unprivileged user")
        }
        let setpriv = URL(fileURLWithPath: "/usr/bin/setpriv")
        if FileManager.default.isExecutableFile(atPath: setpriv.path) {
            return try await tool(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", binary.path] + arguments)
        }
        print("SKIPPED: neither a read-only bind mount nor an unprivileged user is possible; the read-only source is not tested")
        return nil
    }
}
