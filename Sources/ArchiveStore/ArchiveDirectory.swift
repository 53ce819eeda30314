import Foundation
import SystemErrorText

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a path holds, as far as opening an archive there is concerned. Looks only: reads a directory listing.
enum ArchiveDirectory: Equatable {
    /// Nothing at the path.
    case missing
    /// An empty directory, or one holding only what a writer creates before its first manifest (an archive
    /// whose creation was interrupted): a writer may create an archive there.
    case empty
    /// A directory with a manifest.
    case archive
    /// Something else: a file, or a directory of other contents; the words say what was found.
    case foreign(String)
    /// The path cannot be examined.
    case unreadable(Int32)

    /// Names a writer creates before the first manifest is in place.
    private static let creationNames: Set<String> = ["LOCK", "segments", Manifest.fileName + ".tmp"]

    static func inspect(_ path: String) -> ArchiveDirectory {
        var st = stat()
        if stat(path, &st) != 0 { return errno == ENOENT ? .missing : .unreadable(errno) }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            return .foreign("\(path) is a file, not an archive directory")
        }
        guard let dir = opendir(path) else { return .unreadable(errno) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        if names.contains(Manifest.fileName) { return .archive }
        if names.allSatisfy(creationNames.contains) {
            let segments = (try? FileManager.default.contentsOfDirectory(atPath: path + "/segments")) ?? []
            if segments.allSatisfy({ SegmentFormat.parseSegmentFileName($0) != nil }) { return .empty }
        }
        if names.contains("CURRENT") && names.contains(where: { $0.hasPrefix("MANIFEST-") }) {
            return .foreign(
                "\(path) looks like a LevelDB database (CURRENT, MANIFEST-…), not a whisper-archive; "
                    + "to read it, use import --format leveldb \(path)"
            )
        }
        let shown = names.sorted().prefix(3).joined(separator: ", ") + (names.count > 3 ? ", …" : "")
        return .foreign(
            "\(path) is not empty and is not a whisper-archive (no MANIFEST; it holds \(shown)); "
                + "give a new or empty directory"
        )
    }
}

extension Archive {
    /// Why `path` cannot be opened as an existing archive, in words.
    static func notAnArchive(_ path: String) -> String {
        switch ArchiveDirectory.inspect(path) {
        case .missing: return "no archive at \(path) (no such directory)"
        case .empty: return "no archive at \(path) (the directory holds no MANIFEST)"
        case .archive: return "no archive at \(path)"
        case .foreign(let why): return why
        case .unreadable(let e): return "\(SystemErrorText.text(errno: e)): \(path)"
        }
    }

    /// Makes `directory` ready for a writer: an existing archive as it is; a missing or empty directory made into
    /// an archive only when `create` is set; anything else refused before a byte is written.
    static func prepareWriterDirectory(_ directory: String, create: Bool) throws(ArchiveError) {
        let found = ArchiveDirectory.inspect(directory)
        switch found {
        case .archive:
            break
        case .missing, .empty:
            guard create else { throw ArchiveError(.io, notAnArchive(directory), path: directory) }
        case .foreign(let why):
            throw ArchiveError(.io, why, path: directory)
        case .unreadable(let e):
            throw ArchiveError(.io, "\(SystemErrorText.text(errno: e)): \(directory)", path: directory, errno: e)
        }
        let segments = directory + "/segments"
        if found == .archive && FileManager.default.fileExists(atPath: segments) { return }
        if found == .missing {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw ArchiveError(.io, "cannot create the archive directory: \(SystemErrorText.words(error))", path: directory)
            }
        }
        if mkdir(segments, 0o755) != 0 && errno != EEXIST {
            let e = errno
            throw ArchiveError(.io, "cannot create the segments directory: \(String(cString: strerror(e)))", path: segments, errno: e)
        }
    }
}
