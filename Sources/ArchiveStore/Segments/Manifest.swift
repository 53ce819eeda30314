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
    /// Incremented by every compaction and repair; the index records the generation it matches.
    var generation: UInt64?
    /// The renames and removals a committed repair has still to do (absent otherwise): the next writer open
    /// finishes them before anything else; a reader refuses the archive until then.
    var pending: Pending?

    /// One file a repair wrote under a temporary name, relative to the archive directory.
    struct Rename: Codable, Sendable, Hashable {
        var from: String
        var to: String
    }

    /// What a committed repair has still to do.
    struct Pending: Codable, Sendable, Hashable {
        var renames: [Rename]
        /// Files the new manifest no longer lists (relative to the archive directory).
        var removals: [String]
    }

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
            let manifest = try JSONDecoder().decode(Manifest.self, from: data)
            if let problem = manifest.rangeProblem {
                throw ArchiveError(.corrupt, "the manifest is not valid: \(problem)", path: path)
            }
            return manifest
        } catch let error as ArchiveError {
            throw error
        } catch let error as DecodingError {
            throw ArchiveError(.corrupt, "the manifest is not valid JSON of this format (\(Self.describe(error)))", path: path)
        } catch {
            throw ArchiveError(.io, "cannot read the manifest: \(SystemErrorText.words(error))", path: path)
        }
    }

    /// The first value out of range, in words, or nil when every number can be used in arithmetic: sequence
    /// numbers at most `Int64.max`, sizes and counts not negative, segments in ascending order without overlap.
    var rangeProblem: String? {
        var next: UInt64 = 0
        for s in segments {
            guard s.firstSequence <= SegmentFormat.maxSequence, s.records >= 0, s.blocks >= 0,
                UInt64(s.records) <= SegmentFormat.maxSequence - s.firstSequence
            else {
                return "segment \(s.firstSequence) has an out-of-range sequence or record count"
            }
            guard s.bytes >= Int64(SegmentHeader.length), s.bytes < RecordLocation.maxBlockOffset else {
                return "segment \(s.firstSequence) has an out-of-range size \(s.bytes)"
            }
            guard s.firstSequence >= next else { return "segment \(s.firstSequence) overlaps the one before it" }
            next = s.firstSequence + UInt64(s.records)
        }
        if let n = nextSequence, n > SegmentFormat.maxSequence || n < next { return "nextSequence \(n) is out of range" }
        return nil
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
            let at = c.codingPath.map(\.stringValue).joined(separator: ".")
            return (at.isEmpty ? "" : "at \(at): ") + c.debugDescription
        @unknown default: return "cannot decode"
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
