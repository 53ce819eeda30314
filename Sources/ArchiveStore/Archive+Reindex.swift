import EthCrypto
import Whisper

extension Archive {
    /// Rebuilds the index (all of it, or the rows of `topics`) from the segments and reports how the old one differed.
    ///
    /// - Parameters:
    ///   - dryRun: only compare; leave the index as it is.
    ///   - progress: told the segment bytes read so far, of all of them, as the rebuild reads them.
    /// A reader (beside a running writer, or on a read-only archive) can only compare (`dryRun`); it writes nothing:
    /// the rebuilt rows go to a temporary table outside the archive.
    public func reindex(
        topics: [Topic]? = nil,
        dryRun: Bool = false,
        progress: WorkProgress.Report? = nil
    ) throws(ArchiveError) -> ReindexReport {
        let work = WorkProgress(progress)
        guard let writer else {
            guard dryRun else { throw ArchiveError(.readOnly, "reindex needs the archive open as the writer") }
            return try swapLock.withReadLock { () throws(ArchiveError) -> ReindexReport in
                try withIndex { (index) throws(ArchiveError) -> ReindexReport in
                    // The connection cannot write the index file (it is opened read-only); temporary tables live elsewhere.
                    try index.allowingTemporaryTables { () throws(ArchiveError) -> ReindexReport in
                        var sources: [(SegmentInfo, SegmentFile)] = []
                        for s in try segments() {
                            let file = try readers.file(s.firstSequence)
                            var info = s
                            if !s.sealed {
                                info.bytes = try SegmentScanner.forEachValidBlock(file, segment: s.firstSequence, to: try file.size()) { _, _ in }.end
                            }
                            sources.append((info, file))
                        }
                        return try Archive.compareWithSegments(index: index, sources: sources, topics: topics, replace: nil, work: work)
                    }
                }
            }
        }
        return try writer.withSnapshot { (segments, index) throws(ArchiveError) -> ReindexReport in
            var sources: [(SegmentInfo, SegmentFile)] = []
            for s in segments.sealed { sources.append((s, try readers.file(s.firstSequence))) }
            sources.append((segments.active, segments.activeFile))
            return try Archive.compareWithSegments(
                index: index,
                sources: sources,
                topics: topics,
                replace: dryRun ? nil : (segments.active.firstSequence, segments.active.bytes),
                work: work
            )
        }
    }

    /// Rebuilds the rows of `topics` (or all) from `sources` into a temporary table, counts how the index differs,
    /// and, with `replace` (the high-water mark to set), puts the rebuilt rows in its place.
    static func compareWithSegments(
        index: ArchiveIndex,
        sources: [(SegmentInfo, SegmentFile)],
        topics: [Topic]?,
        replace: (segment: UInt64, offset: Int64)?,
        work: WorkProgress
    ) throws(ArchiveError) -> ReindexReport {
        work.start(total: sources.reduce(0) { $0 + $1.0.bytes })
        do {
            let selected = topics.map { Set($0.map(\.rawValue)) }
            let rebuild = try index.beginRebuild(topics: selected)
            defer { rebuild.drop() }
            // Fill the rebuild from the segments.
            var report = ReindexReport()
            try index.transaction(immediate: false) { () throws(ArchiveError) in
                for (s, file) in sources {
                    let (end, invalid) = try SegmentScanner.forEachValidBlock(file, segment: s.firstSequence, to: s.bytes) {
                        (block, raw) throws(ArchiveError) in
                        work.at(block.offset)
                        for range in BlockRecords(raw).map(\.rlp) {
                            let rlp = Array(raw[range])
                            guard let f = EnvelopeFields.parse(rlp) else { continue }
                            if let selected, !selected.contains(f.topic.rawValue) { continue }
                            let key = EnvelopeKey(sentTime: f.sentTime, hash: EnvelopeFields.hash(rlp), topic: f.topic)
                            let loc = RecordLocation(
                                segment: block.segment,
                                blockOffset: block.offset,
                                compressed: block.compressed,
                                position: range.lowerBound,
                                length: range.count
                            )
                            try rebuild.add(key, location: loc)
                        }
                    }
                    if let invalid {
                        throw ArchiveError(
                            .corrupt,
                            "invalid block: \(invalid); run verify --repair",
                            path: file.path,
                            segment: s.firstSequence,
                            offset: end
                        )
                    }
                    work.finishPart(s.bytes)
                }
            }
            report.entries = try rebuild.count()
            report.missing = try rebuild.countMissing()
            report.extra = try rebuild.countExtra()
            report.moved = try rebuild.countMoved()
            report.examples = rebuild.examples
            if let replace {
                try index.transaction { () throws(ArchiveError) in
                    try rebuild.replaceRows()
                    try index.rebuildTopics()
                    try index.setHighWaterMark(segment: replace.segment, offset: replace.offset)
                }
            }
            return report
        }
    }
}
