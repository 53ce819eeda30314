import Foundation
import Logging
import Whisper

extension Archive {
    /// Validates the segments, cuts a torn tail, and catches the index up with blocks after its high-water mark.
    static func recover(
        directory: String,
        manifest: inout Manifest,
        index: ArchiveIndex,
        configuration: ArchiveConfiguration,
        report: inout RecoveryReport
    ) throws(ArchiveError) -> (SegmentInfo, SegmentFile, UInt64) {
        let logger = configuration.logger
        let segDir = directory + "/segments"
        let files = try listSegments(segDir)
        let sealedFirsts = Set(manifest.segments.map(\.firstSequence))
        for s in manifest.segments where !files.contains(s.firstSequence) {
            throw ArchiveError(
                .corrupt,
                "segment \(s.fileName) listed in the manifest is missing",
                path: segDir + "/" + s.fileName,
                segment: s.firstSequence
            )
        }
        // The manifest is authoritative: unlisted files below its floor are leftovers of an interrupted compaction.
        let floor = manifest.activeFloor
        var nextSequence = floor
        try removeCompactionLeftovers(segDir: segDir, manifest: manifest, files: files, logger: logger, report: &report)
        let unsealed = files.filter { !sealedFirsts.contains($0) && $0 >= floor }

        // Validate the unsealed segments; all but the last are sealed now (a roll interrupted by a crash).
        var active: (SegmentInfo, SegmentFile)?
        for (i, first) in unsealed.enumerated() {
            let path = segDir + "/" + SegmentFormat.segmentFileName(firstSequence: first)
            let file = try SegmentFile(path: path, writable: true)
            let size = try file.size()
            let created: UInt32
            switch try SegmentHeader.read(from: file, first: first) {
            case .success(let header):
                created = header.created
            case .failure(.incomplete(let found)):
                guard size <= Int64(SegmentHeader.length) else {
                    throw SegmentHeader.Rejection.incomplete(created: found).error(path: path, segment: first)
                }
                // Created but its header never reached the disk: write it again.
                created = found ?? UInt32(Date().timeIntervalSince1970)
                let h = SegmentHeader(firstSequence: first, created: created).encoded()
                try file.truncate(to: 0)
                try file.write(h, at: 0)
                try file.sync()
                report.cuts.append(
                    .init(
                        segment: first,
                        fileName: SegmentFormat.segmentFileName(firstSequence: first),
                        range: 0..<size,
                        reason: "incomplete segment header rewritten"
                    )
                )
            case .failure(let rejection):
                throw rejection.error(path: path, segment: first)
            }
            let fileSize = try file.size()
            let (scanned, expectedSequence, invalid) = try SegmentInfo.scanningUnsealed(file, first: first, created: created, to: fileSize)
            var info = scanned
            let end = info.bytes
            if end < fileSize {
                let why = invalid ?? "trailing bytes"
                logger.warning("cutting torn tail of segment \(info.fileName): bytes \(end)..<\(fileSize) (\(why))")
                report.cuts.append(.init(segment: first, fileName: info.fileName, range: end..<fileSize, reason: why))
                try file.truncate(to: end)
                try file.sync()
            }
            nextSequence = expectedSequence
            if i < unsealed.count - 1 {
                info.sealed = true
                manifest.segments.append(info)
                manifest.nextSequence = unsealed[i + 1]
                try manifest.store(directory: directory)
            } else {
                active = (info, file)
            }
        }
        if active == nil {
            active = try ArchiveWriter.createSegment(
                segmentsDirectory: segDir,
                firstSequence: nextSequence,
                created: UInt32(Date().timeIntervalSince1970)
            )
        }
        let (activeInfo, activeFile) = active!
        if manifest.nextSequence != activeInfo.firstSequence {
            manifest.nextSequence = activeInfo.firstSequence
            try manifest.store(directory: directory)
        }
        // A crash between a compaction's manifest swap and its index update leaves the index describing the old
        // segments: rebuild it from the segments.
        let generation = Int64(manifest.generation ?? 0)
        if let dropped = index.droppedSchema {
            logger.warning("the index had schema \(dropped), not this build's \(ArchiveIndex.schemaVersion): rebuilding it from the segments")
            try index.setMeta("manifest_generation", generation)
            report.indexRebuilt = true
        } else if try index.meta("manifest_generation") ?? 0 != generation {
            logger.warning("the index does not match manifest generation \(generation) (interrupted compaction): rebuilding it")
            try index.transaction { () throws(ArchiveError) in
                try index.removeAllRows()
                try index.setMeta("manifest_generation", generation)
            }
            report.indexRebuilt = true
        }
        try catchUp(
            segments: manifest.segments + [activeInfo],
            activeFile: activeFile,
            segDir: segDir,
            index: index,
            logger: logger,
            report: &report
        )
        return (activeInfo, activeFile, nextSequence)
    }

    /// What follows the index's committed high-water mark in the segments.
    enum Tail {
        /// Nothing: the index covers every valid block.
        case indexed
        /// Valid blocks the index lacks (a writer stopped before committing their rows), or no mark at all.
        case unindexed
        /// Bytes at the end of the last segment that are no valid block (an interrupted write), after the mark.
        case torn(RecoveryReport.Cut)
    }

    /// Reads (at most one block per segment) what follows the index's high-water mark.
    static func tail(directory: String, manifest: Manifest, index: ArchiveIndex) throws(ArchiveError) -> Tail {
        let segDir = directory + "/segments"
        let files = try listSegments(segDir)
        let sealed = manifest.segments.map(\.firstSequence)
        let unsealed = files.filter { !sealed.contains($0) && $0 >= manifest.activeFloor }
        guard let mark = try index.highWaterMark() else {
            return (sealed + unsealed).isEmpty ? .indexed : .unindexed
        }
        // The mark's segment and every later one, sealed or not (a roll may have sealed the mark's segment).
        let segments = sealed + unsealed
        for first in segments where first >= mark.segment {
            let file = try SegmentFile(path: segDir + "/" + SegmentFormat.segmentFileName(firstSequence: first), writable: false)
            let size = try file.size()
            let from = first == mark.segment ? mark.offset : Int64(SegmentHeader.length)
            guard from < size else { continue }
            switch BlockReader.read(file, segment: first, at: from, fileSize: size) {
            case .block: return .unindexed
            case .end: continue
            case .invalid(let why):
                if first == segments.last {
                    return .torn(
                        .init(segment: first, fileName: SegmentFormat.segmentFileName(firstSequence: first), range: from..<size, reason: why)
                    )
                }
            }
        }
        return .indexed
    }

    /// How a reader that found no writer reads the index, without writing to the archive: the file as it is
    /// (immutable) when it tells the whole truth, or else a private copy brought up to date in a temporary
    /// directory: when the writer left committed rows only in its log (`-wal`), left blocks unindexed, or when
    /// the index does not match the manifest or is missing. A torn tail is reported in `report.skipped`.
    static func readerIndexAccess(
        directory: String,
        manifest: Manifest,
        configuration: ArchiveConfiguration,
        report: inout RecoveryReport
    ) throws(ArchiveError) -> IndexAccess {
        let logger = configuration.logger
        let path = directory + "/" + ArchiveIndex.fileName
        var reason: String
        var st = stat()
        let logBytes = stat(path + "-wal", &st) == 0 ? Int64(st.st_size) : 0
        if logBytes > 0 {
            // The file alone may not even hold the schema yet: the copy takes the log in and is checked there.
            reason = "its writer left \(logBytes) bytes of committed changes in \(ArchiveIndex.fileName)-wal"
        } else if FileManager.default.fileExists(atPath: path) {
            let index = try ArchiveIndex(path: path, readOnly: true, immutable: true)
            let generation = try index.meta("manifest_generation") ?? 0
            let tail = try Archive.tail(directory: directory, manifest: manifest, index: index)
            if case .torn(let cut) = tail {
                logger.warning(
                    "skipping the torn tail of segment \(cut.fileName): bytes \(cut.range.lowerBound)..<\(cut.range.upperBound) (\(cut.reason)); a writer would cut it"
                )
                report.skipped.append(cut)
            }
            if generation != Int64(manifest.generation ?? 0) {
                reason = "it describes manifest generation \(generation), not \(manifest.generation ?? 0) (an interrupted compaction)"
            } else if case .unindexed = tail {
                reason = "its writer stopped before indexing its last blocks"
            } else {
                return .immutable(path: path)
            }
        } else {
            reason = "there is none"
        }
        logger.notice(
            "reading \(directory) through a private copy of its index, since \(reason); the archive is not changed (open it as a writer or run reindex to bring its index up to date)"
        )
        let copy = try PrivateIndexCopy(archive: directory)
        if FileManager.default.fileExists(atPath: copy.path) {
            // Take the writer's log in, then refuse what a reader refuses (another schema), naming the archive's file.
            try ArchiveIndex.takeInLog(path: copy.path)
            do throws(ArchiveError) { _ = try ArchiveIndex(path: copy.path, readOnly: true) } catch {
                var e = error
                e.path = path
                throw e
            }
        }
        let index = try ArchiveIndex(path: copy.path, readOnly: false)
        let generation = Int64(manifest.generation ?? 0)
        if try index.meta("manifest_generation") ?? 0 != generation {
            try index.transaction { () throws(ArchiveError) in
                try index.removeAllRows()
                try index.setMeta("manifest_generation", generation)
            }
            report.indexRebuilt = true
        }
        let segDir = directory + "/segments"
        let sealed = Set(manifest.segments.map(\.firstSequence))
        let unsealed = try listSegments(segDir).filter { !sealed.contains($0) && $0 >= manifest.activeFloor }
        var segments = manifest.segments
        var lastFile: SegmentFile?
        for first in unsealed {
            let file = try SegmentFile(path: segDir + "/" + SegmentFormat.segmentFileName(firstSequence: first), writable: false)
            let size = try file.size()
            let (end, invalid) = try SegmentScanner.forEachValidBlock(file, segment: first, to: size) { _, _ in }
            segments.append(SegmentInfo(firstSequence: first, bytes: end, blocks: 0, records: 0, created: 0, sealed: false))
            lastFile = file
            if end < size, !report.skipped.contains(where: { $0.segment == first }) {
                let cut = RecoveryReport.Cut(
                    segment: first,
                    fileName: SegmentFormat.segmentFileName(firstSequence: first),
                    range: end..<size,
                    reason: invalid ?? "trailing bytes"
                )
                logger.warning("skipping the torn tail of segment \(cut.fileName): bytes \(end)..<\(size) (\(cut.reason)); a writer would cut it")
                report.skipped.append(cut)
            }
        }
        if let last = segments.last {
            let file: SegmentFile
            if let lastFile { file = lastFile } else { file = try SegmentFile(path: segDir + "/" + last.fileName, writable: false) }
            do throws(ArchiveError) {
                try catchUp(segments: segments, activeFile: file, segDir: segDir, index: index, logger: logger, report: &report)
            } catch {
                logger.warning("the private index could not be brought fully up to date: \(error)")
            }
        }
        return .privateCopy(copy)
    }

    /// Deletes what an interrupted compaction left behind: unlisted segment files below the manifest's floor,
    /// temporary outputs (`*.seg.compact`), and bytes a merge appended to a sealed segment that the manifest
    /// never took in.
    static func removeCompactionLeftovers(
        segDir: String,
        manifest: Manifest,
        files: [UInt64],
        logger: Logger,
        report: inout RecoveryReport
    ) throws(ArchiveError) {
        let listed = Set(manifest.segments.map(\.firstSequence))
        var removed = false
        for f in files where !listed.contains(f) && f < manifest.activeFloor {
            let name = SegmentFormat.segmentFileName(firstSequence: f)
            if manifest.nextSequence == nil {
                // A manifest from before compaction existed: not a compaction leftover; keep it aside, unread.
                let quarantine = (segDir as NSString).deletingLastPathComponent + "/quarantine"
                try FileManager.default.createDirectoryIfMissing(quarantine)
                logger.warning("moving \(name) to quarantine/: not in the manifest and older than its segments")
                guard rename(segDir + "/" + name, quarantine + "/" + name) == 0 else {
                    throw ArchiveError(.io, "cannot move an unlisted segment to quarantine", path: segDir + "/" + name, errno: errno)
                }
            } else {
                logger.warning("removing \(name): not in the manifest and below its floor (left by an interrupted compaction)")
                guard unlink(segDir + "/" + name) == 0 else {
                    throw ArchiveError(.io, "cannot remove a leftover segment", path: segDir + "/" + name, errno: errno)
                }
            }
            report.leftoversRemoved.append(name)
            removed = true
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: segDir)) ?? []
        for name in names where name.hasSuffix(SegmentFormat.compactionSuffix) {
            logger.warning("removing \(name): an unfinished compaction output")
            unlink(segDir + "/" + name)
            report.leftoversRemoved.append(name)
            removed = true
        }
        for s in manifest.segments {
            let file = try SegmentFile(path: segDir + "/" + s.fileName, writable: true)
            let size = try file.size()
            if size > s.bytes {
                logger.warning("cutting \(s.fileName) to its manifest length \(s.bytes) (bytes \(s.bytes)..<\(size) left by an interrupted merge)")
                try file.truncate(to: s.bytes)
                try file.sync()
                report.cuts.append(
                    .init(
                        segment: s.firstSequence,
                        fileName: s.fileName,
                        range: s.bytes..<size,
                        reason: "beyond the manifest length (interrupted merge)"
                    )
                )
            }
        }
        if removed { try SegmentFile.syncDirectory(segDir) }
    }

    /// Indexes blocks after the high-water mark; removes rows that point past the end of the segments.
    static func catchUp(
        segments: [SegmentInfo],
        activeFile: SegmentFile,
        segDir: String,
        index: ArchiveIndex,
        logger: Logger,
        report: inout RecoveryReport
    ) throws(ArchiveError) {
        guard let last = segments.last else { return }
        let hwm = try index.highWaterMark()
        if let hwm {
            let ahead: Bool
            if let s = segments.first(where: { $0.firstSequence == hwm.segment }) {
                ahead = hwm.offset > s.bytes
            } else {
                ahead = hwm.segment > last.firstSequence
            }
            if ahead {
                // The index saw blocks that are not in the segments (lost with `--sync none`): drop those rows.
                let end = segments.first(where: { $0.firstSequence == hwm.segment })?.bytes ?? 0
                let seg = min(hwm.segment, last.firstSequence)
                let removed = try index.transaction { () throws(ArchiveError) -> Int in
                    let n = try index.deleteRows(after: seg, fromOffset: hwm.segment == seg ? end : Int64.max)
                    try index.rebuildTopics()
                    try index.setHighWaterMark(segment: seg, offset: hwm.segment == seg ? end : Int64(SegmentHeader.length))
                    return n
                }
                report.entriesRemoved += removed
                logger.warning("the index was ahead of the segments: removed \(removed) rows")
            }
        }
        guard let mark = try index.highWaterMark() ?? (segments.first.map { ($0.firstSequence, Int64(SegmentHeader.length)) }) else { return }
        for s in segments where s.firstSequence >= mark.0 || (hwm == nil) {
            let from = s.firstSequence == mark.0 ? mark.1 : Int64(SegmentHeader.length)
            guard from < s.bytes else { continue }
            let file =
                s.firstSequence == last.firstSequence
                ? activeFile
                : try SegmentFile(path: segDir + "/" + s.fileName, writable: false)
            var added = 0
            var blocks = 0
            try index.transaction { () throws(ArchiveError) in
                var stats: [UInt32: TopicStats] = [:]
                let (end, invalid) = try SegmentScanner.forEachValidBlock(file, segment: s.firstSequence, from: from, to: s.bytes) {
                    (block, raw) throws(ArchiveError) in
                    blocks += 1
                    try indexBlock(block, raw, index: index, stats: &stats, added: &added)
                }
                if let invalid {
                    throw ArchiveError(
                        .corrupt,
                        "invalid block in a sealed segment: \(invalid); run verify",
                        path: file.path,
                        segment: s.firstSequence,
                        offset: end
                    )
                }
                try index.addTopicStats(stats)
                try index.setHighWaterMark(segment: s.firstSequence, offset: s.bytes)
            }
            report.blocksIndexed += blocks
            report.entriesIndexed += added
        }
        if report.blocksIndexed > 0 {
            logger.notice("index caught up: \(report.blocksIndexed) blocks, \(report.entriesIndexed) rows added")
        }
        if try index.highWaterMark() == nil {
            try index.setHighWaterMark(segment: last.firstSequence, offset: last.bytes)
        }
    }

    /// Inserts the rows of one block.
    static func indexBlock(
        _ block: BlockInfo,
        _ raw: [UInt8],
        index: ArchiveIndex,
        stats: inout [UInt32: TopicStats],
        added: inout Int,
        topics: Set<UInt32>? = nil
    ) throws(ArchiveError) {
        for record in BlockRecords(raw) {
            let rlp = Array(raw[record.rlp])
            guard let f = EnvelopeFields.parse(rlp) else {
                throw ArchiveError(.corrupt, "a record is not an envelope", segment: block.segment, offset: block.offset)
            }
            if let topics, !topics.contains(f.topic.rawValue) { continue }
            let loc = RecordLocation(
                segment: block.segment,
                blockOffset: block.offset,
                compressed: block.compressed,
                position: record.rlp.lowerBound,
                length: record.rlp.count
            )
            let isNew = try index.insert(topic: f.topic.rawValue, sentTime: f.sentTime, hash: EnvelopeFields.hash(rlp), location: loc)
            if isNew {
                added += 1
                stats[f.topic.rawValue, default: TopicStats()].add(f.sentTime)
            }
        }
    }
}
