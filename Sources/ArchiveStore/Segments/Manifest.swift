import Foundation
import SystemErrorText

/// The manifest: the format version and the sealed segments, replaced atomically.
struct Manifest: Codable, Sendable {
    /// The archive format version.
    var format: UInt32
    /// Sealed segments in sequence order.
    var segments: [SegmentInfo]
    /// The first sequence number after the sealed segments: the active segment starts here. Segment files
    /// named below it and not listed are leftovers (of an interrupted compaction) that must never be read.
    /// Absent in archives written before compaction existed: then it is the end of the last sealed segment.
    var nextSequence: UInt64?
    /// Incremented by every compaction; the index records the generation it matches.
    var generation: UInt64?

    init(format: UInt32, segments: [SegmentInfo], nextSequence: UInt64? = nil, generation: UInt64? = nil) {
        self.format = format
        self.segments = segments
        self.nextSequence = nextSequence
        self.generation = generation
    }

    /// Segment files named at or above this sequence number are the active segment (or a roll in progress);
    /// unlisted files below it are leftovers.
    var activeFloor: UInt64 {
        if let nextSequence { return nextSequence }
        guard let last = segments.last else { return 1 }
        return last.firstSequence + UInt64(last.records)
    }

    static let fileName = "MANIFEST"

    static func load(directory: String) throws(ArchiveError) -> Manifest? {
        let path = directory + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw ArchiveError(.corrupt, "the manifest cannot be read: \(SystemErrorText.words(error))", path: path)
        }
    }

    /// Writes `MANIFEST.tmp`, fsyncs it, renames it over `MANIFEST`, fsyncs the directory.
    func store(directory: String) throws(ArchiveError) {
        let path = directory + "/" + Manifest.fileName
        let tmp = path + ".tmp"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(self) } catch { throw ArchiveError(.io, "cannot encode the manifest: \(error)", path: path) }
        unlink(tmp)
        let file = try SegmentFile(path: tmp, writable: true, create: true)
        try file.write(Array(data), at: 0)
        try file.sync()
        guard rename(tmp, path) == 0 else {
            let e = errno
            throw ArchiveError(.io, "cannot rename the new manifest into place", path: path, errno: e)
        }
        try SegmentFile.syncDirectory(directory)
    }
}
