import Foundation

extension Compactor {
    /// The segments a compaction starts from: every segment before, and the sealed ones once the active
    /// segment is sealed.
    struct Baseline {
        /// Every segment before the seal: the sealed ones, then the unsealed ones (the active one last).
        var before: [SegmentInfo]
        /// The sealed segments after the seal, in sequence order.
        var sealed: [SegmentInfo]
        /// The first sequence number (and file name) of the active segment after the seal.
        var active: UInt64

        /// The segment files after the seal.
        var names: Set<UInt64> { Set(sealed.map(\.firstSequence)).union([active]) }

        init(before: [SegmentInfo], sealed: [SegmentInfo], active: UInt64) {
            self.before = before
            self.sealed = sealed
            self.active = active
        }

        /// What a writer makes of `unsealed` (not empty): it seals all but the last when it opens (a roll that
        /// a crash interrupted), and compaction's roll seals the last, the active one, when it holds records.
        init(sealing manifest: [SegmentInfo], unsealed: [SegmentInfo]) {
            before = manifest + unsealed
            sealed = manifest
            let last = unsealed[unsealed.count - 1]
            for (i, s) in unsealed.enumerated() where i < unsealed.count - 1 || s.records > 0 {
                var s = s
                s.sealed = true
                sealed.append(s)
            }
            active = last.records > 0 ? last.firstSequence + UInt64(last.records) : last.firstSequence
        }
    }

    /// Seals the active segment (the writer's roll) and says what the archive held before.
    func sealActive() throws(ArchiveError) -> Baseline {
        guard let writer = archive.writer else { throw ArchiveError(.readOnly, "compaction needs the archive open as the writer") }
        let now = UInt32(clamping: Int(Date().timeIntervalSince1970))
        return try writer.exclusive { () throws(ArchiveError) -> Baseline in
            let before = writer.manifest.segments + [writer.active]
            if writer.active.records > 0 { try writer.roll(now: now) }
            return Baseline(before: before, sealed: writer.manifest.segments, active: writer.active.firstSequence)
        }
    }

    /// The baseline a real run would start from, computed without writing: from the writer's state when the
    /// archive is open as the writer, else from the manifest and a scan of the unsealed segment files, taken as
    /// a writer's open would take them (a torn tail left out, as it would be cut).
    func simulatedBaseline() throws(ArchiveError) -> Baseline {
        if let writer = archive.writer {
            let (sealed, active) = try writer.exclusive { () throws(ArchiveError) in (writer.manifest.segments, writer.active) }
            return Baseline(sealing: sealed, unsealed: [active])
        }
        guard let manifest = try Manifest.load(directory: archive.directory) else {
            throw ArchiveError(.io, "no archive at \(archive.directory) (no MANIFEST)", path: archive.directory)
        }
        let listed = Set(manifest.segments.map(\.firstSequence))
        let floor = manifest.activeFloor
        var unsealed: [SegmentInfo] = []
        for first in try Archive.listSegments(segDir) where !listed.contains(first) && first >= floor {
            unsealed.append(try scanUnsealed(first))
        }
        if unsealed.isEmpty {
            // A writer's open creates the active segment.
            unsealed.append(SegmentInfo(firstSequence: floor, bytes: Int64(SegmentFormat.segmentHeaderLength), blocks: 0, records: 0,
                                        minSentTime: nil, maxSentTime: nil, created: 0, sealed: false))
        }
        return Baseline(sealing: manifest.segments, unsealed: unsealed)
    }

    /// An unsealed segment as a writer's open finds it: its valid blocks, records and sent times (read only).
    func scanUnsealed(_ first: UInt64) throws(ArchiveError) -> SegmentInfo {
        let file = try archive.readers.file(first)
        let size = try file.size()
        var header = [UInt8](repeating: 0, count: SegmentFormat.segmentHeaderLength)
        let n = try file.read(into: &header, at: 0)
        var info = SegmentInfo(firstSequence: first, bytes: Int64(SegmentFormat.segmentHeaderLength), blocks: 0, records: 0,
                               minSentTime: nil, maxSentTime: nil, created: 0, sealed: false)
        guard n == SegmentFormat.segmentHeaderLength, Array(header[0..<8]) == SegmentFormat.segmentMagic else {
            // A header that never reached the disk: the writer writes it again.
            guard size <= Int64(SegmentFormat.segmentHeaderLength) else {
                throw ArchiveError(.corrupt, "segment header is not valid", path: file.path, segment: first, offset: 0)
            }
            return info
        }
        guard header.u64LE(16) == first, CRC32C.checksum(header[0..<28]) == header.u32LE(28) else {
            throw ArchiveError(.corrupt, "segment header does not match its file name or checksum", path: file.path, segment: first, offset: 0)
        }
        guard header.u32LE(8) == SegmentFormat.version else {
            throw ArchiveError(.unsupportedVersion, "segment format \(header.u32LE(8)) is not supported", path: file.path, segment: first)
        }
        info.created = header.u32LE(24)
        var expected = first
        let (end, _) = try Archive.forEachBlock(file, segment: first, from: info.bytes, to: size) { (block, raw) throws(ArchiveError) in
            guard block.firstSequence == expected else {
                throw ArchiveError(.corrupt, "block sequence \(block.firstSequence) where \(expected) was expected",
                                   path: file.path, segment: first, offset: block.offset)
            }
            BlockReader.forEachRecord(raw) { range, _, _ in
                if let f = EnvelopeFields.parse(Array(raw[range])) { info.add(sentTime: f.sentTime) } else { info.records += 1 }
            }
            expected += UInt64(block.recordCount)
            info.blocks += 1
        }
        info.bytes = end
        return info
    }
}
