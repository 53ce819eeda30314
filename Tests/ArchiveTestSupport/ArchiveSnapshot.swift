import ArchiveStore
import Foundation

/// What maintenance tests compare before and after an operation on an archive directory.
public enum ArchiveSnapshot {
    /// Hashes of every envelope a reader exports (what `export` writes).
    public static func exportedHashes(_ path: String) throws -> Set<[UInt8]> {
        let a = try Archive(directory: path, configuration: .reader)
        defer { a.close() }
        var out = Set<[UInt8]>()
        try a.scan { out.insert($0.hash) }
        return out
    }

    /// The segment file names of an archive, sorted.
    public static func segmentFiles(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path + "/segments").filter { $0.hasSuffix(".seg") }.sorted()
    }
}
