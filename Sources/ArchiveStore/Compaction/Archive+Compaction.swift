import EthCrypto
import Foundation
import Whisper

extension Archive {
    /// Removes envelopes sent before `cutoff` and every envelope of `dropTopics`; see ``compact(_:)``.
    ///
    /// Retention only: it neither merges small segments nor looks for duplicates (no pass over the whole index),
    /// so dropping whole expired segments costs their files and their index rows.
    ///
    /// Safe to call from a running server while it appends and answers queries: appends wait only while the
    /// active segment is sealed and while the new manifest and index rows are swapped in, not during the rewrite.
    /// - Parameters:
    ///   - cutoff: Unix seconds; envelopes with an earlier sent time (expiry − TTL) are removed.
    ///   - dryRun: report what would be removed; change nothing.
    public func applyRetention(before cutoff: UInt32, dropTopics: [Topic] = [], dryRun: Bool = false) throws(ArchiveError) -> CompactionReport {
        try compact(CompactionOptions(before: cutoff, dropTopics: dropTopics, dryRun: dryRun, mergeBelow: 0, removeDuplicates: false))
    }

    /// Compacts the archive: drops expired envelopes and dropped topics, removes duplicates, merges small segments.
    ///
    /// The active segment is sealed first, so every stored envelope is subject to the cutoff. A sealed segment
    /// whose newest envelope is before the cutoff is deleted as a whole file. Other segments that lose records,
    /// and runs of small neighbouring segments, are rewritten into new files, which are swapped in through the
    /// manifest (write, fsync, rename, fsync directory) and then the index, in one SQLite transaction. A crash at
    /// any point leaves the old or the new archive; the next writer open removes leftovers and, when the crash
    /// fell between the manifest and the index, rebuilds the index.
    ///
    /// A dry run (`options.dryRun`) also works on an archive open as a reader, beside a running writer or on a
    /// read-only disk: it takes the same decisions and lays out the same output blocks, but counts their bytes
    /// instead of writing them, and seals the active segment only in its figures. It writes nothing.
    /// - Throws: ``ArchiveError`` `.readOnly` for a reader (unless a dry run); `.io`, `.corrupt` or `.index` when
    ///   a step fails (the archive is then left as it was, or as the new manifest describes it).
    public func compact(_ options: CompactionOptions) throws(ArchiveError) -> CompactionReport {
        guard writer != nil || options.dryRun else {
            throw ArchiveError(.readOnly, "compaction needs the archive open as the writer")
        }
        compactionLock.lock()
        defer { compactionLock.unlock() }
        var compactor = Compactor(archive: self, options: options)
        return try compactor.run()
    }
}

/// One compaction run: seal, plan, read (decide per record), lay out the new segments, swap.
///
/// A dry run goes through the same steps up to the layout, with the seal simulated and the output blocks sent
/// to a ``SegmentSink`` that only counts them; the report of both is computed from that layout.
struct Compactor {
    let archive: Archive
    let options: CompactionOptions
    let segDir: String
    let dropTopics: Set<UInt32>
    var report = CompactionReport()
    let started = Date()
    let work: WorkProgress

    /// A record kept by a rewrite, and what its index row needs.
    struct Kept {
        /// The envelope's key, or nil for a record that is not an envelope (kept as is, never indexed).
        var key: EnvelopeKey?
        /// True when no index row existed for it (it is inserted).
        var isNew: Bool
        /// RLP range in the source block's raw payload.
        var range: Range<Int>
    }

    /// The decisions for one source block.
    struct BlockPlan {
        var info: BlockInfo
        /// Per record, in order: kept or not (nil when all are kept).
        var keep: [Bool]?
        var kept: [Kept]
    }

    /// What a rewrite removes from its sources, by reason.
    struct Removed {
        var expired = 0
        var topicDropped = 0
        var duplicates = 0
        var total: Int { expired + topicDropped + duplicates }

        static func + (a: Removed, b: Removed) -> Removed {
            Removed(expired: a.expired + b.expired, topicDropped: a.topicDropped + b.topicDropped, duplicates: a.duplicates + b.duplicates)
        }
    }

    /// The decisions for one source segment.
    struct SourcePlan {
        var info: SegmentInfo
        var blocks: [BlockPlan] = []
        var kept = 0
        var removed = Removed()
    }

    /// Consecutive sealed segments rewritten into one file.
    struct Unit {
        var sources: [SourcePlan]
        /// End of the sequence range of the preceding kept segment: the output's range must start at or after it.
        var lowest: UInt64
        var end: UInt64 {
            let l = sources[sources.count - 1].info
            return l.firstSequence + UInt64(l.records)
        }
        var kept: Int { sources.reduce(0) { $0 + $1.kept } }
        var removed: Int { sources.reduce(0) { $0 + $1.removed.total } }
    }

    /// The output of a unit: its segment (nil when nothing was kept) and the index changes.
    struct Output {
        var sources: [UInt64]
        /// Bytes of the sources (as the manifest lists them) and what the rewrite removes from them.
        var sourceBytes: Int64
        var removed: Removed
        var segment: SegmentInfo?
        var temporaryPath: String?
        /// Sources whose file stays (the first source of an in-place merge).
        var retained: UInt64?
        var moves: [(key: EnvelopeKey, location: RecordLocation, isNew: Bool)] = []

        init(_ sources: [SourcePlan], segment: SegmentInfo? = nil, temporaryPath: String? = nil, retained: UInt64? = nil) {
            self.sources = sources.map(\.info.firstSequence)
            sourceBytes = sources.reduce(0) { $0 + $1.info.bytes }
            removed = sources.reduce(Removed()) { $0 + $1.removed }
            self.segment = segment
            self.temporaryPath = temporaryPath
            self.retained = retained
        }
    }

    init(archive: Archive, options: CompactionOptions) {
        self.archive = archive
        self.options = options
        self.work = WorkProgress(options.progress)
        self.segDir = archive.segmentsDirectory
        self.dropTopics = Set(options.dropTopics.map(\.rawValue))
        report.dryRun = options.dryRun
        report.cutoff = options.before
        report.droppedTopics = options.dropTopics.map { $0.bytes.hex }.sorted()
    }

    mutating func run() throws(ArchiveError) -> CompactionReport {
        // 1. Seal the active segment so that every record is subject to retention (a dry run only computes the seal).
        let baseline = try options.dryRun ? simulatedBaseline() : sealActive()
        report.segmentsBefore = baseline.before.count
        report.envelopesBefore = baseline.before.reduce(0) { $0 + $1.records }
        report.bytesBefore = baseline.before.reduce(0) { $0 + $1.bytes }
        let sealed = baseline.sealed

        // 2.–4. Plan whole-file drops and units to rewrite, then decide per record, all from the index as readers see it.
        let (drops, units) = try archive.withIndex { (index) throws(ArchiveError) -> ([SegmentInfo], [Unit]) in
            var rowCounts = options.removeDuplicates ? try index.rowCountsPerSegment(topics: nil) : [:]
            var topicRows = dropTopics.isEmpty ? [:] : try index.rowCountsPerSegment(topics: dropTopics)
            if archive.writer == nil {
                // The rows the real run's writer open would add first.
                let pending = try rowsToCatchUp(index, segments: sealed)
                if options.removeDuplicates { rowCounts.merge(pending.all, uniquingKeysWith: +) }
                topicRows.merge(pending.dropped, uniquingKeysWith: +)
            }
            var (drops, units) = plan(sealed, rowCounts: rowCounts, topicRows: topicRows)
            try decide(&units, index: index)
            return (drops, units)
        }

        // 5. Lay the new segments out: under temporary names, or (dry run) only counted.
        var names = baseline.names
        if !options.dryRun { names.formUnion(try Archive.listSegments(segDir)) }
        var outputs: [Output] = []
        do throws(ArchiveError) {
            for u in units { outputs += try write(u, names: &names) }
            if !options.dryRun {
                for o in outputs {
                    guard let t = o.temporaryPath, let s = o.segment else { continue }
                    guard rename(t, segDir + "/" + s.fileName) == 0 else {
                        throw ArchiveError(.io, "cannot rename a compacted segment into place", path: t, errno: errno)
                    }
                }
                try SegmentFile.syncDirectory(segDir)
            }
        } catch {
            if !options.dryRun { removeOutputs(outputs, sealed: sealed) }
            throw error
        }
        finishReport(baseline, drops: drops, outputs: outputs)
        if options.dryRun { return report }

        // 6. Swap: manifest, then index, then delete the old files.
        try swap(drops: drops, outputs: outputs)
        report.seconds = Date().timeIntervalSince(started)
        archive.logger.notice(
            "compaction: removed \(report.envelopesRemoved) envelopes (\(report.expired) expired, \(report.topicDropped) of dropped topics, \(report.duplicates) duplicates), \(report.bytesRemoved) bytes; dropped \(report.segmentsDropped) segments, rewrote \(report.segmentsRewritten)"
        )
        return report
    }

    /// The figures of the report, from the layout alone (the same for a dry run and a real one).
    mutating func finishReport(_ baseline: Baseline, drops: [SegmentInfo], outputs: [Output]) {
        let removed = outputs.reduce(Removed()) { $0 + $1.removed }
        report.expired = drops.reduce(0) { $0 + $1.records } + removed.expired
        report.topicDropped = removed.topicDropped
        report.duplicates = removed.duplicates
        report.envelopesRemoved = report.expired + report.topicDropped + report.duplicates
        report.envelopesKept = report.envelopesBefore - report.envelopesRemoved
        report.segmentsDropped = drops.count
        report.segmentsRewritten = outputs.reduce(0) { $0 + $1.sources.count }
        report.segmentsWritten = outputs.filter { $0.segment != nil }.count
        report.bytesRewritten = outputs.reduce(0) { $0 + $1.sourceBytes }
        report.bytesRemoved = drops.reduce(0) { $0 + $1.bytes } + outputs.reduce(0) { $0 + $1.sourceBytes - ($1.segment?.bytes ?? 0) }
        report.bytesKept = report.bytesBefore - report.bytesRemoved
        // The sealed segments left, the new ones, and the active segment.
        report.segmentsAfter = baseline.sealed.count - drops.count - report.segmentsRewritten + report.segmentsWritten + 1
        report.seconds = Date().timeIntervalSince(started)
    }

    /// Whole-file drops, and the units to rewrite (their records not yet decided).
    func plan(_ sealed: [SegmentInfo], rowCounts: [UInt64: Int], topicRows: [UInt64: Int]) -> (drops: [SegmentInfo], units: [Unit]) {
        let mergeBelow = options.mergeBelow ?? archive.configuration.segmentMaxBytes / 4
        var drops: [SegmentInfo] = []
        var units: [Unit] = []
        var current: [SegmentInfo] = []
        var currentLowest: UInt64 = 1
        var lowest: UInt64 = 1
        func needsRewrite(_ s: SegmentInfo) -> Bool {
            if let cutoff = options.before, (s.minSentTime ?? 0) < cutoff { return true }
            if (topicRows[s.firstSequence] ?? 0) > 0 { return true }
            return options.removeDuplicates && (rowCounts[s.firstSequence] ?? 0) != s.records
        }
        func flush() {
            if current.count > 1 || (current.count == 1 && needsRewrite(current[0])) {
                units.append(Unit(sources: current.map { SourcePlan(info: $0) }, lowest: currentLowest))
            }
            current = []
        }
        for s in sealed {
            if s.records == 0 || (options.before.map { c in s.maxSentTime.map { $0 < c } ?? false } ?? false) {
                drops.append(s)
                continue
            }
            let small = s.bytes < mergeBelow
            let times = (current + [s]).flatMap { [$0.minSentTime, $0.maxSentTime].compactMap { $0 } }
            let span = (times.max() ?? 0) - (times.min() ?? 0)
            let fits = current.reduce(0) { $0 + $1.bytes } + s.bytes <= archive.configuration.segmentMaxBytes && span <= options.mergeSpan
            if !(small && fits) { flush() }
            if current.isEmpty { currentLowest = lowest }
            current.append(s)
            if !small { flush() }
            lowest = s.firstSequence + UInt64(s.records)
        }
        flush()
        return (drops, units)
    }

    /// Removes the outputs of a failed layout: nothing references them yet (the next writer open would too).
    func removeOutputs(_ outputs: [Output], sealed: [SegmentInfo]) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: segDir)) ?? [] where name.hasSuffix(SegmentFormat.compactionSuffix) {
            unlink(segDir + "/" + name)
        }
        for o in outputs {
            if let t = o.temporaryPath { unlink(t) }
            if o.temporaryPath != nil, let s = o.segment { unlink(segDir + "/" + s.fileName) }
            if let r = o.retained, let old = sealed.first(where: { $0.firstSequence == r }),
                let f = try? SegmentFile(path: segDir + "/" + old.fileName, writable: true)
            {
                try? f.truncate(to: old.bytes)
            }
        }
    }

    /// Reads every record of the units and decides: keep, expired, dropped topic or duplicate.
    func decide(_ units: inout [Unit], index: ArchiveIndex) throws(ArchiveError) {
        let segs = units.flatMap { $0.sources.map(\.info.firstSequence) }
        guard !segs.isEmpty else { return }
        // Each source is read twice: here to decide, then to copy what it keeps.
        work.start(total: 2 * units.reduce(0) { $0 + $1.sources.reduce(0) { $0 + $1.info.bytes } })
        let rows = try index.rowsInStorageOrder(inSegments: segs)
        let lookup = try index.keyLookup()
        var row: ArchiveIndex.SegmentRows.Row?
        func nextRow() throws(ArchiveError) { row = try rows.next() }
        try nextRow()
        var seenNew = Set<EnvelopeKey>()
        for u in units.indices {
            for si in units[u].sources.indices {
                var plan = units[u].sources[si]
                let seg = plan.info.firstSequence
                let file = try archive.readers.file(seg)
                var expired = 0
                var topicDropped = 0
                var duplicates = 0
                let (end, invalid) = try SegmentScanner.forEachValidBlock(file, segment: seg, to: plan.info.bytes) {
                    (block, raw) throws(ArchiveError) in
                    work.at(block.offset)
                    var keep: [Bool] = []
                    var kept: [Kept] = []
                    var failure: ArchiveError?
                    for range in BlockRecords(raw).map(\.rlp) where failure == nil {
                        do throws(ArchiveError) {
                            let here = (seg, block.offset, range.lowerBound)
                            while let r = row, (r.seg, r.off, r.pos) < here { try nextRow() }
                            let indexed = row.map { ($0.seg, $0.off, $0.pos) == here } ?? false
                            let rlp = Array(raw[range])
                            guard let f = EnvelopeFields.parse(rlp) else {
                                keep.append(true)
                                kept.append(Kept(key: nil, isNew: false, range: range))
                                continue
                            }
                            if let cutoff = options.before, f.sentTime < cutoff {
                                expired += 1
                                keep.append(false)
                            } else if dropTopics.contains(f.topic.rawValue) {
                                topicDropped += 1
                                keep.append(false)
                            } else if indexed, let r = row {
                                keep.append(true)
                                kept.append(Kept(key: r.key, isNew: false, range: range))
                            } else {
                                let key = EnvelopeKey(sentTime: f.sentTime, hash: EnvelopeFields.hash(rlp), topic: f.topic)
                                if try lookup.contains(key) || seenNew.contains(key) {
                                    duplicates += 1
                                    keep.append(false)
                                } else {
                                    seenNew.insert(key)
                                    keep.append(true)
                                    kept.append(Kept(key: key, isNew: true, range: range))
                                }
                            }
                        } catch { failure = error }
                    }
                    if let failure { throw failure }
                    let all = kept.count == block.recordCount
                    plan.blocks.append(BlockPlan(info: block, keep: all ? nil : keep, kept: kept))
                    plan.kept += kept.count
                }
                if let invalid {
                    throw ArchiveError(
                        .corrupt,
                        "invalid block in a sealed segment: \(invalid); run verify --repair before compacting",
                        path: file.path,
                        segment: seg,
                        offset: end
                    )
                }
                plan.removed = Removed(expired: expired, topicDropped: topicDropped, duplicates: duplicates)
                units[u].sources[si] = plan
                work.finishPart(plan.info.bytes)
            }
        }
        rows.reset()
    }

    /// Writes a unit: one new file named inside the unit's sequence range, an in-place merge (nothing removed,
    /// contiguous sequences: the other sources' blocks are appended to the first source), or, when neither
    /// fits, each source on its own.
    func write(_ u: Unit, names: inout Set<UInt64>) throws(ArchiveError) -> [Output] {
        let n = UInt64(u.kept)
        if n == 0 { return [Output(u.sources)] }
        // The highest free name whose range [f, f + n) stays inside [lowest, end): the order of segments and
        // the sequence numbers after them do not change.
        var f = u.end - n
        while f >= u.lowest && names.contains(f) { f -= 1 }
        if f >= u.lowest && !names.contains(f) {
            names.insert(f)
            return [try writeNew(u, first: f)]
        }
        let contiguous = zip(u.sources, u.sources.dropFirst()).allSatisfy { $0.info.firstSequence + UInt64($0.info.records) == $1.info.firstSequence }
        if u.removed == 0 && contiguous && u.sources[0].blocks.allSatisfy({ $0.keep == nil }) {
            return [try appendInPlace(u)]
        }
        if u.sources.count == 1 { return [] }  // no room for a new name: leave the segment as it is
        var out: [Output] = []
        var lowest = u.lowest
        for s in u.sources {
            if s.removed.total > 0 { out += try write(Unit(sources: [s], lowest: lowest), names: &names) }
            lowest = s.info.firstSequence + UInt64(s.info.records)
        }
        return out
    }

    /// Copies the kept records of a unit into a new segment `first` (renumbered from `first`); a dry run counts them.
    func writeNew(_ u: Unit, first: UInt64) throws(ArchiveError) -> Output {
        let name = SegmentFormat.segmentFileName(firstSequence: first)
        var output = Output(u.sources)
        var out = SegmentSink()
        if !options.dryRun {
            let tmp = segDir + "/" + name + ".compact"
            unlink(tmp)
            out = SegmentSink(file: try SegmentFile(path: tmp, writable: true, create: true))
            output.temporaryPath = tmp
        }
        let created = u.sources[0].info.created
        let header = SegmentFormat.segmentHeader(firstSequence: first, created: created)
        try out.write(header, at: 0)
        var info = SegmentInfo.empty(firstSequence: first, created: created, sealed: true)
        var sequence = first
        for s in u.sources {
            let file = try archive.readers.file(s.info.firstSequence)
            for b in s.blocks where !b.kept.isEmpty {
                try copyBlock(b, from: file, to: &out, info: &info, sequence: &sequence, output: &output)
            }
            work.finishPart(s.info.bytes)
        }
        try out.sync()
        output.segment = info
        return output
    }

    /// Appends the blocks of every source but the first to the first source's file (their sequence numbers
    /// already follow on); the manifest then lists the first source with its new length. A dry run counts them.
    func appendInPlace(_ u: Unit) throws(ArchiveError) -> Output {
        let first = u.sources[0].info
        var out = SegmentSink()
        if !options.dryRun {
            let file = try SegmentFile(path: segDir + "/" + first.fileName, writable: true)
            guard try file.size() == first.bytes else {
                throw ArchiveError(.corrupt, "segment length differs from the manifest", path: file.path, segment: first.firstSequence)
            }
            out = SegmentSink(file: file)
        }
        var info = first
        var output = Output(u.sources, retained: first.firstSequence)
        var sequence = first.firstSequence + UInt64(first.records)
        do throws(ArchiveError) {
            for s in u.sources.dropFirst() {
                let file = try archive.readers.file(s.info.firstSequence)
                for b in s.blocks { try copyBlock(b, from: file, to: &out, info: &info, sequence: &sequence, output: &output) }
            }
            try out.sync()
        } catch {
            try? out.truncate(to: first.bytes)
            throw error
        }
        output.segment = info
        return output
    }

    /// Writes one block's kept records at the end of `out`: the stored bytes as they are when every record is kept
    /// (with the sequence number patched), else a new block of the kept records.
    func copyBlock(
        _ b: BlockPlan,
        from file: SegmentFile,
        to out: inout SegmentSink,
        info: inout SegmentInfo,
        sequence: inout UInt64,
        output: inout Output
    ) throws(ArchiveError) {
        var bytes: [UInt8]
        var positions: [Int]
        let compressed: Bool
        if b.keep == nil {
            bytes = [UInt8](repeating: 0, count: b.info.length)
            guard try file.read(into: &bytes, at: b.info.offset) == b.info.length else {
                throw ArchiveError(.corrupt, "short read of a block", path: file.path, segment: b.info.segment, offset: b.info.offset)
            }
            if b.info.firstSequence != sequence {
                BlockHeader.renumber(block: &bytes, firstSequence: sequence)
            }
            positions = b.kept.map(\.range.lowerBound)
            compressed = b.info.compressed
        } else {
            guard
                case .block(_, let raw) = BlockReader.read(
                    file,
                    segment: b.info.segment,
                    at: b.info.offset,
                    fileSize: b.info.offset + Int64(b.info.length)
                )
            else {
                throw ArchiveError(.corrupt, "a block changed during compaction", path: file.path, segment: b.info.segment, offset: b.info.offset)
            }
            var encoder = BlockEncoder(capacity: b.info.rawLength)
            positions = []
            for k in b.kept {
                let arrival = BlockRecords.arrival(in: raw, rlpStart: k.range.lowerBound)
                positions.append(encoder.append(rlp: Array(raw[k.range]), arrival: arrival))
            }
            bytes = encoder.encode(firstSequence: sequence, allowCompression: archive.configuration.compression)
            compressed = BlockHeader(trusted: bytes).compressed
        }
        let offset = info.bytes
        try out.write(bytes, at: offset)
        for (k, pos) in zip(b.kept, positions) {
            if let key = k.key {
                info.add(sentTime: key.sentTime)
                output.moves.append(
                    (
                        key,
                        RecordLocation(
                            segment: info.firstSequence,
                            blockOffset: offset,
                            compressed: compressed,
                            position: pos,
                            length: k.range.count
                        ), k.isNew
                    )
                )
            } else {
                info.records += 1
            }
        }
        info.bytes += Int64(bytes.count)
        info.blocks += 1
        sequence += UInt64(b.kept.count)
    }

    /// Installs the new manifest, updates the index in one transaction, and deletes the replaced files.
    func swap(drops: [SegmentInfo], outputs: [Output]) throws(ArchiveError) {
        guard let writer = archive.writer else { throw ArchiveError(.readOnly, "compaction needs the archive open as the writer") }
        let dropped = Set(drops.map(\.firstSequence))
        var replacedBy: [UInt64: SegmentInfo?] = [:]
        var removedFiles: [UInt64] = drops.map(\.firstSequence)
        for o in outputs {
            for (i, s) in o.sources.enumerated() {
                replacedBy.updateValue(i == 0 ? o.segment : nil, forKey: s)
                if s != o.retained { removedFiles.append(s) }
            }
        }
        // Queries first (so appends do not wait behind a long scan), then the writer.
        try archive.swapLock.withWriteLock { () throws(ArchiveError) in
            try writer.installManifest { manifest, active in
                var segments: [SegmentInfo] = []
                for s in manifest.segments where !dropped.contains(s.firstSequence) {
                    if let r = replacedBy[s.firstSequence] {
                        if let r { segments.append(r) }
                    } else {
                        segments.append(s)
                    }
                }
                manifest.segments = segments
                manifest.generation = (manifest.generation ?? 0) + 1
                manifest.nextSequence = active.firstSequence
            } then: { (index, manifest, active) throws(ArchiveError) in
                try updateIndex(index, active: active, dropped: drops, outputs: outputs, generation: manifest.generation ?? 0)
                for f in removedFiles {
                    archive.readers.forget(f)
                    unlink(segDir + "/" + SegmentFormat.segmentFileName(firstSequence: f))
                }
                for o in outputs { if let r = o.retained { archive.readers.forget(r) } }
                try SegmentFile.syncDirectory(segDir)
            }
        }
    }

    /// Index changes of a compaction, in one transaction: rows of whole dropped segments (by topic and key range),
    /// rows of removed records, new locations of kept records, topic counts, high-water mark, generation.
    func updateIndex(_ index: ArchiveIndex, active: SegmentInfo, dropped: [SegmentInfo], outputs: [Output], generation: UInt64) throws(ArchiveError) {
        try index.transaction { () throws(ArchiveError) in
            var removedPerTopic: [Topic: Int] = [:]
            if !dropped.isEmpty {
                let all = try index.topicMinSentTimes()
                let upper = dropped.compactMap(\.maxSentTime).max().map { Int64($0) + 1 } ?? 0
                removedPerTopic = try index.deleteRows(
                    topics: all.filter { $0.minSent < upper }.map(\.topic),
                    sentBefore: UInt32(clamping: upper),
                    inSegments: dropped.map(\.firstSequence)
                )
            }
            // Rows of removed records in rewritten segments: every row still pointing into a replaced source.
            let replaced = outputs.flatMap { o in o.sources.filter { $0 != o.retained } }
            let mover = try index.rowMover()
            var stats: [UInt32: TopicStats] = [:]
            for o in outputs {
                for m in o.moves {
                    if try mover.place(m.key, at: m.location, isNew: m.isNew) == 1, m.isNew {
                        stats[m.key.topic.rawValue, default: TopicStats()].add(m.key.sentTime)
                    }
                }
            }
            if !replaced.isEmpty {
                // What still points into a replaced file belongs to a removed record.
                for (topic, n) in try index.rowCountsPerTopic(inSegments: replaced) { removedPerTopic[topic, default: 0] += n }
                try index.deleteRows(inSegments: replaced)
            }
            try index.subtractFromTopicCounts(removedPerTopic)
            try index.addTopicStats(stats)
            try index.setHighWaterMark(segment: active.firstSequence, offset: active.bytes)
            try index.setMeta("manifest_generation", Int64(generation))
        }
    }
}
