import Foundation
import SystemErrorText
import Whisper

/// One change `verify --repair` made.
public struct RepairAction: Sendable, Codable, Hashable, CustomStringConvertible {
    /// What was done, for example `quarantined`, `rewrote-segment`, `manifest`, `rebuilt-index`.
    public var kind: String
    /// The file concerned, relative to the archive directory.
    public var file: String
    /// First byte of the range concerned.
    public var start: Int64?
    /// One past the last byte of the range concerned.
    public var end: Int64?
    /// In words.
    public var detail: String

    public var description: String {
        "\(kind): \(file)" + (start.map { s in " bytes \(s)..<\(end ?? s)" } ?? "") + ": \(detail)"
    }
}

extension Archive {
    /// Repairs an archive in place: damaged bytes go to `quarantine/`, segments are rewritten from their valid
    /// blocks, the manifest is rebuilt from the segment files, and the index is rebuilt from scratch.
    ///
    /// Never drops a record of a valid block. Takes the writer lock, so no server may run on the archive.
    /// - Returns: every change made, in order.
    public static func repair(directory: String, configuration: ArchiveConfiguration = ArchiveConfiguration()) throws(ArchiveError) -> [RepairAction] {
        var actions: [RepairAction] = []
        let segDir = directory + "/segments"
        var lock: ArchiveLock? = try ArchiveLock(directory: directory)
        let old = (try? Manifest.load(directory: directory)) ?? nil
        // Unlisted files below a readable manifest's floor are leftovers of an interrupted compaction: never read them.
        let listed = Set(old?.segments.map(\.firstSequence) ?? [])
        let files = ((try? listSegments(segDir)) ?? []).filter { f in old.map { listed.contains(f) || f >= $0.activeFloor } ?? true }
        for s in old?.segments ?? [] where !files.contains(s.firstSequence) {
            actions.append(.init(kind: "manifest", file: "segments/" + s.fileName, detail: "removed the missing segment from the manifest (\(s.records) records lost)"))
        }
        let quarantine = directory + "/quarantine"
        var infos: [SegmentInfo] = []
        for (i, first) in files.enumerated() {
            let rel = "segments/" + SegmentFormat.segmentFileName(firstSequence: first)
            let path = directory + "/" + rel
            let file = try SegmentFile(path: path, writable: false)
            let size = try file.size()
            var header = [UInt8](repeating: 0, count: SegmentFormat.segmentHeaderLength)
            let n = try file.read(into: &header, at: 0)
            let headerOK = n == header.count && Array(header[0..<8]) == SegmentFormat.segmentMagic && header.u64LE(16) == first
                && CRC32C.checksum(header[0..<28]) == header.u32LE(28) && header.u32LE(8) == SegmentFormat.version
            let created = headerOK ? header.u32LE(24) : UInt32(Date().timeIntervalSince1970)
            var info = SegmentInfo(firstSequence: first, bytes: Int64(SegmentFormat.segmentHeaderLength), blocks: 0, records: 0,
                                   created: created, sealed: i < files.count - 1)
            var blocks: [BlockInfo] = []
            var damaged: [(Range<Int64>, String)] = []
            var offset = Int64(SegmentFormat.segmentHeaderLength)
            var contiguous = true
            var expected = first
            while offset < size {
                switch BlockReader.read(file, segment: first, at: offset, fileSize: size) {
                case .end: offset = size
                case .invalid(let why):
                    let next = BlockReader.nextValidBlock(file, from: offset + 1, to: size, segment: first)
                    damaged.append((offset..<next, why))
                    offset = next
                case .block(let b, let raw):
                    if b.firstSequence != expected { contiguous = false }
                    expected = b.firstSequence + UInt64(b.recordCount)
                    blocks.append(b)
                    BlockReader.forEachRecord(raw) { range, _, _ in
                        if let f = EnvelopeFields.parse(Array(raw[range])) { info.add(sentTime: f.sentTime) } else { info.records += 1 }
                    }
                    info.blocks += 1
                    info.bytes += Int64(b.length)
                    offset += Int64(b.length)
                }
            }
            if !damaged.isEmpty || !headerOK || !contiguous {
                try FileManager.default.createDirectoryIfMissing(quarantine)
                for (range, why) in damaged {
                    let name = "quarantine/\(SegmentFormat.segmentFileName(firstSequence: first)).\(range.lowerBound)-\(range.upperBound).bin"
                    var bytes = [UInt8](repeating: 0, count: Int(range.count))
                    try file.read(into: &bytes, at: range.lowerBound)
                    let q = try SegmentFile(path: directory + "/" + name, writable: true, create: true)
                    try q.write(bytes, at: 0)
                    try q.sync()
                    actions.append(.init(kind: "quarantined", file: rel, start: range.lowerBound, end: range.upperBound,
                                         detail: "moved \(range.count) damaged bytes to \(name) (\(why))"))
                }
                // Rewrite: a fresh header and the valid blocks, renumbered so the sequence stays contiguous.
                let tmp = path + ".repair"
                unlink(tmp)
                let out = try SegmentFile(path: tmp, writable: true, create: true)
                try out.write(SegmentFormat.segmentHeader(firstSequence: first, created: created), at: 0)
                var at = Int64(SegmentFormat.segmentHeaderLength)
                var sequence = first
                for b in blocks {
                    var bytes = [UInt8](repeating: 0, count: b.length)
                    try file.read(into: &bytes, at: b.offset)
                    withUnsafeBytes(of: sequence.littleEndian) { for k in 0..<8 { bytes[16 + k] = $0[k] } }
                    let crc = bytes.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[8...])) }
                    withUnsafeBytes(of: crc.littleEndian) { for k in 0..<4 { bytes[4 + k] = $0[k] } }
                    try out.write(bytes, at: at)
                    at += Int64(b.length)
                    sequence += UInt64(b.recordCount)
                }
                try out.sync()
                guard rename(tmp, path) == 0 else { throw ArchiveError(.io, "cannot replace the segment", path: path, errno: errno) }
                try SegmentFile.syncDirectory(segDir)
                actions.append(.init(kind: "rewrote-segment", file: rel, start: 0, end: size,
                                     detail: "kept \(blocks.count) valid blocks (\(info.records) records), \(at) bytes"
                                        + (headerOK ? "" : "; wrote a new segment header")))
                info.bytes = at
            }
            infos.append(info)
        }
        let manifest = Manifest(format: SegmentFormat.version, segments: infos.filter(\.sealed))
        let oldList = old?.segments.map { "\($0.firstSequence):\($0.bytes)" } ?? []
        if manifest.segments.map({ "\($0.firstSequence):\($0.bytes)" }) != oldList {
            actions.append(.init(kind: "manifest", file: Manifest.fileName, detail: "rewrote the manifest from the segment files (\(manifest.segments.count) sealed segments)"))
        }
        try manifest.store(directory: directory)
        for suffix in ["", "-wal", "-shm"] { unlink(directory + "/" + ArchiveIndex.fileName + suffix) }
        lock = nil
        _ = lock
        var c = configuration
        c.mode = .writer
        c.createIfMissing = false
        let archive = try Archive(directory: directory, configuration: c)
        let count = try archive.count()
        archive.close()
        actions.append(.init(kind: "rebuilt-index", file: ArchiveIndex.fileName, detail: "rebuilt the index from the segments: \(count) envelopes"))
        return actions
    }
}

extension FileManager {
    func createDirectoryIfMissing(_ path: String) throws(ArchiveError) {
        do { try createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw ArchiveError(.io, "cannot create \(path): \(SystemErrorText.words(error))", path: path)
        }
    }
}
