import Foundation
import Whisper

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
        let (before, after) = try writer.sealActiveSegment()
        return Baseline(before: before.all, sealed: after.sealed, active: after.active.firstSequence)
    }

    /// The baseline a real run would start from, computed without writing: from the writer's state when the
    /// archive is open as the writer, else from the manifest and a scan of the unsealed segment files, taken as
    /// a writer's open would take them (a torn tail left out, as it would be cut).
    func simulatedBaseline() throws(ArchiveError) -> Baseline {
        if let writer = archive.writer {
            let segments = try writer.withSnapshot { (snapshot, _) throws(ArchiveError) in snapshot }
            return Baseline(sealing: segments.sealed, unsealed: [segments.active])
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
            unsealed.append(
                SegmentInfo.empty(firstSequence: floor, created: 0)
            )
        }
        return Baseline(sealing: manifest.segments, unsealed: unsealed)
    }

    /// An unsealed segment as a writer's open finds it: its valid blocks, records and sent times (read only).
    func scanUnsealed(_ first: UInt64) throws(ArchiveError) -> SegmentInfo {
        let file = try archive.readers.file(first)
        let size = try file.size()
        switch try SegmentHeader.read(from: file, first: first) {
        case .success(let header):
            return try SegmentInfo.scanningUnsealed(file, first: first, created: header.created, to: size).info
        case .failure(let rejection):
            // A header that never reached the disk: the writer writes it again.
            guard case .incomplete = rejection, size <= Int64(SegmentHeader.length) else {
                throw rejection.error(path: file.path, segment: first)
            }
            return SegmentInfo.empty(firstSequence: first, created: 0)
        }
    }
}

extension Compactor {
    /// The index rows a writer's open adds before a real run, per segment (all, and of the dropped topics).
    ///
    /// A writer that stopped without committing its last rows (or one running now) leaves records after the
    /// index's high-water mark; a writer's open indexes each whose key has no row yet. A dry run opened as a
    /// reader counts them so that it plans on the index the real run reads. Reads only.
    func rowsToCatchUp(_ index: ArchiveIndex, segments: [SegmentInfo]) throws(ArchiveError) -> (all: [UInt64: Int], dropped: [UInt64: Int]) {
        let header = Int64(SegmentHeader.length)
        let markSegment = try index.meta("hwm_segment").map { UInt64(clamping: $0) }
        let markOffset = try index.meta("hwm_offset") ?? header
        let lookup = try index.keyLookup()
        var all: [UInt64: Int] = [:]
        var dropped: [UInt64: Int] = [:]
        var seen = Set<EnvelopeKey>()
        for s in segments where markSegment.map({ s.firstSequence >= $0 }) ?? true {
            let from = s.firstSequence == markSegment ? max(markOffset, header) : header
            guard from < s.bytes else { continue }
            let file = try archive.readers.file(s.firstSequence)
            var failure: ArchiveError?
            _ = try SegmentScanner.forEachValidBlock(file, segment: s.firstSequence, from: from, to: s.bytes) { (_, raw) throws(ArchiveError) in
                for range in BlockRecords(raw).map(\.rlp) where failure == nil {
                    let rlp = Array(raw[range])
                    guard let f = EnvelopeFields.parse(rlp) else { continue }
                    let key = EnvelopeKey(sentTime: f.sentTime, hash: EnvelopeFields.hash(rlp), topic: f.topic)
                    do throws(ArchiveError) {
                        let indexed = try lookup.contains(key)
                        guard !indexed, seen.insert(key).inserted else { continue }
                        all[s.firstSequence, default: 0] += 1
                        if dropTopics.contains(f.topic.rawValue) { dropped[s.firstSequence, default: 0] += 1 }
                    } catch { failure = error }
                }
                if let failure { throw failure }
            }
        }
        return (all, dropped)
    }
}
