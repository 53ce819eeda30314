import EthCrypto
import Foundation
import Whisper

extension Archive {
    /// Checks an archive directory without trusting it and without changing it.
    ///
    /// Quick checks: the manifest, every segment header, every block's CRC32C and layout, and index ↔ segment
    /// consistency (every index entry points at a record with that key; every record is indexed).
    /// With `full`, every envelope is also decoded strictly and hashed, and its key and uniqueness checked.
    /// Damaged bytes are skipped by searching for the next valid block, so one bad block does not hide the rest.
    /// - Parameters:
    ///   - progress: called at most twice a second.
    ///   - finding: called once per finding, as soon as it is known.
    /// - Throws: ``ArchiveError`` only when `directory` is not a directory.
    public static func verify(
        directory: String,
        full: Bool = false,
        progress: (VerifyProgress) -> Void = { _ in },
        finding: (VerifyFinding) -> Void = { _ in }
    ) throws(ArchiveError) -> VerifyReport {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw ArchiveError(.io, "no archive directory at \(directory)", path: directory)
        }
        return withoutActuallyEscaping(progress) { progress in
            withoutActuallyEscaping(finding) { finding in
                var v = Verifier(directory: directory, full: full, progress: progress, emit: finding)
                v.run()
                v.report.seconds = Date().timeIntervalSince(v.started)
                return v.report
            }
        }
    }
}

/// The state of one verify run.
struct Verifier {
    let directory: String
    let full: Bool
    let progress: (VerifyProgress) -> Void
    let emit: (VerifyFinding) -> Void
    var report = VerifyReport()
    let started = Date()
    var lastProgress = Date.distantPast
    var totalBytes: Int64 = 0
    var index: ArchiveIndex?
    /// Index rows in storage order, read and sorted by SQLite on a thread of their own.
    var rows: RowFeed?
    var chunk: [IndexEntryRow] = []
    var chunkPosition = 0
    var pendingRow: IndexEntryRow?
    var rowsDone = false
    var highWaterMark: (segment: UInt64, offset: Int64)?
    /// No writer starts while verify reads (a reader's shared lock), unless one was running already.
    let presence: WriterPresence
    var indexAccess: IndexAccess?
    var seen = Set<HashPrefix>()
    var unindexedAfterMark = 0
    let readers: SegmentReaders

    struct HashPrefix: Hashable {
        var a: UInt64
        var b: UInt64
    }

    struct IndexEntryRow {
        var topic: [UInt8]
        var key: [UInt8]
        var location: RecordLocation
        var hash: String { Cursor(trusted: key).hash.hex }
        func sortKey() -> (UInt64, Int64, Int) { (location.segment, location.blockOffset, location.position) }
    }

    init(directory: String, full: Bool, progress: @escaping (VerifyProgress) -> Void, emit: @escaping (VerifyFinding) -> Void) {
        self.directory = directory
        self.full = full
        self.progress = progress
        self.emit = emit
        readers = SegmentReaders(directory: directory + "/segments")
        presence = WriterPresence.probe(directory: directory)
        report.full = full
    }

    mutating func add(_ f: VerifyFinding) {
        report.findings.append(f)
        emit(f)
    }

    static func segmentPath(_ first: UInt64) -> String { "segments/" + SegmentFormat.segmentFileName(firstSequence: first) }

    mutating func run() {
        // 1. Manifest.
        var manifest: Manifest?
        if !FileManager.default.fileExists(atPath: directory + "/" + Manifest.fileName) {
            add(
                .init(
                    .missing,
                    "missing-manifest",
                    file: Manifest.fileName,
                    detail: "the manifest is missing; verify --repair rebuilds it from the segments"
                )
            )
        } else {
            do throws(ArchiveError) {
                manifest = try Manifest.load(directory: directory)
                if let m = manifest, m.pending != nil {
                    add(
                        .init(
                            .manifest,
                            "repair-pending",
                            file: Manifest.fileName,
                            detail: "a committed repair has renames left to do; verify --repair (or any writer open) finishes them"
                        )
                    )
                }
                if let m = manifest, m.format != SegmentFormat.version {
                    add(
                        .init(
                            .manifest,
                            "unsupported-format",
                            file: Manifest.fileName,
                            detail: "format \(m.format); this build reads format \(SegmentFormat.version)"
                        )
                    )
                }
            } catch {
                add(.init(.manifest, "manifest-unreadable", file: Manifest.fileName, detail: error.message))
            }
        }
        let sealed = manifest?.segments ?? []
        let files: [UInt64]
        do throws(ArchiveError) { files = try Archive.listSegments(directory + "/segments") } catch {
            add(.init(.missing, "missing-segments-directory", file: "segments", detail: error.message))
            files = []
        }
        let fileSet = Set(files)
        for s in sealed where !fileSet.contains(s.firstSequence) {
            add(
                .init(
                    .missing,
                    "missing-segment",
                    file: Self.segmentPath(s.firstSequence),
                    segment: s.firstSequence,
                    range: 0..<s.bytes,
                    detail: "listed in the manifest (\(s.records) records, \(s.bytes) bytes) but the file is missing"
                )
            )
        }
        let sealedSet = Set(sealed.map(\.firstSequence))
        let lastSealed = sealed.map(\.firstSequence).max() ?? 0
        let unlisted = files.filter { !sealedSet.contains($0) }
        let active = unlisted.filter { $0 > lastSealed }.max()
        for u in unlisted where u != active {
            add(
                .init(
                    .manifest,
                    "unlisted-segment",
                    file: Self.segmentPath(u),
                    segment: u,
                    detail: u < lastSealed
                        ? "not in the manifest and older than its last segment (stale manifest or leftover file)"
                        : "a sealed segment missing from the manifest (stale manifest)"
                )
            )
        }

        // 2. Index.
        let indexPath = directory + "/" + ArchiveIndex.fileName
        if !FileManager.default.fileExists(atPath: indexPath) {
            add(
                .init(
                    .missing,
                    "missing-index",
                    file: ArchiveIndex.fileName,
                    detail: "the index is missing; verify --repair (or reindex) rebuilds it"
                )
            )
        } else {
            do throws(ArchiveError) {
                let access = try IndexAccess.asStored(directory: directory, presence: presence)
                indexAccess = access
                let idx = try access.open()
                let problems = try idx.quickCheck()
                if !problems.isEmpty {
                    add(
                        .init(
                            .index,
                            "index-corrupt",
                            file: ArchiveIndex.fileName,
                            detail: "SQLite quick_check: " + problems.prefix(3).joined(separator: "; ")
                        )
                    )
                }
                highWaterMark = try idx.highWaterMark()
                rows = RowFeed(try idx.rowsInStorageOrder())
                index = idx
            } catch {
                add(.init(.index, "index-unreadable", file: ArchiveIndex.fileName, detail: error.message))
            }
        }

        // 3. Segments, in sequence order, merged with the index rows.
        for f in files { totalBytes += (try? SegmentFile(path: segPath(f), writable: false).size()) ?? 0 }
        let infos = Dictionary(sealed.map { ($0.firstSequence, $0) }, uniquingKeysWith: { a, _ in a })
        for f in files {
            danglingRows(before: f, existing: fileSet)
            checkSegment(f, listed: infos[f])
            report.segments += 1
        }
        danglingRows(before: .max, existing: fileSet)
        if unindexedAfterMark > 0 {
            report.notes.append(
                "\(unindexedAfterMark) records after the index high-water mark are not indexed yet; the next writer open indexes them"
            )
        }
        checkTopicStats()
        sendProgress(force: true)
    }

    func segPath(_ f: UInt64) -> String { directory + "/" + Self.segmentPath(f) }

    // MARK: index rows

    mutating func nextRow() -> IndexEntryRow? {
        if let r = pendingRow { return r }
        guard let rows, !rowsDone else { return nil }
        if chunkPosition == chunk.count {
            switch rows.next() {
            case .rows(let next):
                chunk = next
                chunkPosition = 0
            case .end:
                rowsDone = true
                let invalid = rows.invalid
                for row in invalid.examples {
                    add(.init(.index, "index-invalid-row", file: ArchiveIndex.fileName, detail: "an index row that can point at no record: \(row)"))
                }
                if invalid.count > invalid.examples.count {
                    add(
                        .init(
                            .index,
                            "index-invalid-row",
                            file: ArchiveIndex.fileName,
                            detail: "\(invalid.count - invalid.examples.count) more index rows that can point at no record"
                        )
                    )
                }
                return nil
            case .failed(let error):
                rowsDone = true
                add(.init(.index, "index-unreadable", file: ArchiveIndex.fileName, detail: "reading entries failed: \(error.message)"))
                return nil
            }
        }
        let r = chunk[chunkPosition]
        chunkPosition += 1
        report.indexEntries += 1
        pendingRow = r
        return r
    }

    mutating func popRow() { pendingRow = nil }

    /// Rows of segments that have no file.
    mutating func danglingRows(before segment: UInt64, existing: Set<UInt64>) {
        var bySegment: [UInt64: [String]] = [:]
        while let r = nextRow(), r.location.segment < segment {
            popRow()
            if existing.contains(r.location.segment) {
                add(
                    .init(
                        .index,
                        "index-extra",
                        file: Self.segmentPath(r.location.segment),
                        segment: r.location.segment,
                        range: r.location.blockOffset..<(r.location.blockOffset + 1),
                        hashes: [r.hash],
                        detail: "index entry points past the segment's last block"
                    )
                )
            } else {
                bySegment[r.location.segment, default: []].append(r.hash)
            }
        }
        for (s, hashes) in bySegment.sorted(by: { $0.key < $1.key }) {
            add(
                .init(
                    .index,
                    "index-dangling",
                    file: Self.segmentPath(s),
                    segment: s,
                    hashes: hashes,
                    detail: "\(hashes.count) index entries point into a segment that does not exist"
                )
            )
        }
    }

    // MARK: segments

    mutating func checkSegment(_ first: UInt64, listed: SegmentInfo?) {
        let rel = Self.segmentPath(first)
        let file: SegmentFile
        let size: Int64
        do throws(ArchiveError) {
            file = try SegmentFile(path: segPath(first), writable: false)
            size = try file.size()
        } catch {
            add(.init(.data, "unreadable-segment", file: rel, segment: first, detail: error.message))
            return
        }
        if let listed, listed.bytes != size {
            if size < listed.bytes {
                add(
                    .init(
                        .data,
                        "truncated-segment",
                        file: rel,
                        segment: first,
                        range: size..<listed.bytes,
                        detail: "the file has \(size) bytes; the manifest lists \(listed.bytes)"
                    )
                )
            } else {
                add(
                    .init(
                        .manifest,
                        "size-mismatch",
                        file: rel,
                        segment: first,
                        range: listed.bytes..<size,
                        detail: "the file has \(size) bytes; the manifest lists \(listed.bytes) (stale manifest or bytes appended)"
                    )
                )
            }
        }
        if (try? SegmentHeader.read(from: file, first: first).get()) == nil {
            add(
                .init(
                    .data,
                    "bad-header",
                    file: rel,
                    segment: first,
                    range: 0..<Int64(min(SegmentHeader.length, Int(size))),
                    detail: "the segment header is not valid (magic, version, first sequence or CRC32C)"
                )
            )
        }
        report.bytes += Int64(min(Int64(SegmentHeader.length), size))
        var damaged: [(range: Range<Int64>, why: String, hashes: [String])] = []
        var expectedSequence = first
        // With --full, blocks are decoded a few ahead of the one being matched against the index.
        var pending: [(block: BlockInfo, raw: [UInt8], decode: PendingDecode?)] = []
        func checkOldest() {
            let (block, raw, decode) = pending.removeFirst()
            checkBlock(block, raw, decoded: decode?.wait() ?? [], rel: rel, damaged: &damaged)
            report.blocks += 1
            report.bytes += Int64(block.length)
            sendProgress()
        }
        var scanner = SegmentScanner(file: file, segment: first, to: size)
        while let item = scanner.next() {
            switch item {
            case .damaged(let range, let why):
                while !pending.isEmpty { checkOldest() }
                damaged.append((range, why, []))
                report.bytes += range.upperBound - range.lowerBound
            case .block(let block, let payload):
                let raw = payload ?? []
                if block.firstSequence < expectedSequence {
                    add(
                        .init(
                            .data,
                            "sequence-order",
                            file: rel,
                            segment: first,
                            range: block.byteRange,
                            detail: "block starts at sequence \(block.firstSequence), before \(expectedSequence)"
                        )
                    )
                }
                expectedSequence = block.firstSequence + UInt64(block.recordCount)
                pending.append((block, raw, full ? PendingDecode(raw) : nil))
                // Up to 64 blocks ahead: while SQLite sorts the index rows at the start, the decode keeps every core busy.
                if pending.count > (full ? 64 : 2) { checkOldest() }
            }
        }
        while !pending.isEmpty { checkOldest() }
        // Rows left for this segment point at no record, or into a damaged range.
        while let r = nextRow(), r.location.segment == first {
            popRow()
            if let d = damaged.firstIndex(where: { $0.range.contains(r.location.blockOffset) }) {
                damaged[d].hashes.append(r.hash)
            } else {
                add(
                    .init(
                        .index,
                        "index-extra",
                        file: rel,
                        segment: first,
                        range: r.location.blockOffset..<(r.location.blockOffset + 1),
                        hashes: [r.hash],
                        detail: "index entry points at no record (block at \(r.location.blockOffset), position \(r.location.position))"
                    )
                )
            }
        }
        for d in damaged {
            let torn = d.range.upperBound == size
            add(
                .init(
                    .data,
                    torn ? "torn-tail" : "bad-block",
                    file: rel,
                    segment: first,
                    range: d.range,
                    hashes: d.hashes,
                    detail: (torn ? "invalid bytes to the end of the segment: " : "damaged block: ") + d.why
                        + (d.hashes.isEmpty ? "" : "; \(d.hashes.count) indexed envelopes lost")
                )
            )
        }
    }

    /// The strict decode of one record (`--full`), computed off the sequential path.
    enum Decoded: Sendable {
        case envelope(sent: UInt32, topic: Topic, hash: [UInt8])
        case invalid(String)
    }

    /// Index rows for the merge with the segments, produced on a thread of their own in chunks.
    final class RowFeed: @unchecked Sendable {
        enum Next {
            case rows([IndexEntryRow])
            case end
            case failed(ArchiveError)
        }

        private let condition = NSCondition()
        private var ready: [Next] = []
        private var finished = false
        /// Rows whose values cannot be a location or a key (a damaged or hostile index): counted, not merged.
        private var invalidRows: (count: Int, examples: [String]) = (0, [])

        /// The rows skipped as invalid so far, and up to 20 of them in words (complete once `.end` was read).
        var invalid: (count: Int, examples: [String]) {
            condition.lock()
            defer { condition.unlock() }
            return invalidRows
        }

        init(_ rows: ArchiveIndex.StoredRows) {
            let t = Thread { [self] in produce(rows) }
            t.name = "whisper-archive.verify-rows"
            t.start()
        }

        private func produce(_ rows: ArchiveIndex.StoredRows) {
            var chunk: [IndexEntryRow] = []
            chunk.reserveCapacity(4096)
            var last = Next.end
            do throws(ArchiveError) {
                while let r = try rows.next() {
                    let topic = r.topic
                    let key = r.key
                    guard topic.count == 4, key.count == 36,
                        let location = RecordLocation(indexColumns: r.seg, storedBlock: r.blk, position: r.pos, length: r.len)
                    else {
                        let row =
                            "topic \(topic.hex) (\(topic.count) bytes), key of \(key.count) bytes, "
                            + "seg \(r.seg), blk \(r.blk), pos \(r.pos), len \(r.len)"
                        condition.lock()
                        invalidRows.count += 1
                        if invalidRows.examples.count < 20 { invalidRows.examples.append(row) }
                        condition.unlock()
                        continue
                    }
                    chunk.append(IndexEntryRow(topic: topic, key: key, location: location))
                    if chunk.count == 4096 {
                        push(.rows(chunk))
                        chunk.removeAll(keepingCapacity: true)
                    }
                }
            } catch {
                last = .failed(error)
            }
            if !chunk.isEmpty { push(.rows(chunk)) }
            push(last)
            rows.reset()
        }

        /// Queues a chunk; waits while 16 chunks are queued.
        private func push(_ n: Next) {
            condition.lock()
            while ready.count >= 16 { condition.wait() }
            ready.append(n)
            condition.broadcast()
            condition.unlock()
        }

        /// The next chunk (waits for it); `.end` or `.failed` last.
        func next() -> Next {
            condition.lock()
            defer { condition.unlock() }
            if finished { return .end }
            while ready.isEmpty { condition.wait() }
            let n = ready.removeFirst()
            if case .rows = n {} else { finished = true }
            condition.broadcast()
            return n
        }
    }

    /// The decode of one block's records, running on the global queue while the verifier reads the next blocks
    /// and matches earlier ones against the index (the expensive part of `--full`, spread over every core).
    final class PendingDecode: @unchecked Sendable {
        private let group = DispatchGroup()
        private let slots: UnsafeMutableBufferPointer<Decoded>

        init(_ raw: [UInt8]) {
            let records = BlockRecords(raw).map(\.rlp)
            let chunks = max(1, min(2 * ProcessInfo.processInfo.activeProcessorCount, records.count / 64))
            // Each chunk writes its own slots of one allocation, owned by this object until `wait` copies it out.
            let out = UnsafeMutableBufferPointer<Decoded>.allocate(capacity: records.count)
            out.initialize(repeating: .invalid(""))
            slots = out
            // Not Sendable as a type; the chunks write disjoint slots and `wait` reads them after the group ends.
            nonisolated(unsafe) let shared = out
            for c in 0..<chunks {
                DispatchQueue.global().async(group: group) {
                    for k in (c * records.count / chunks)..<((c + 1) * records.count / chunks) {
                        do {
                            let e = try Envelope(rlp: Array(raw[records[k]]))
                            shared[k] = .envelope(sent: e.sentTime, topic: e.topic, hash: e.hash)
                        } catch {
                            shared[k] = .invalid("\(error)")
                        }
                    }
                }
            }
        }

        /// Waits for the decode and returns one result per record.
        func wait() -> [Decoded] {
            group.wait()
            return Array(slots)
        }

        deinit {
            group.wait()
            slots.deinitialize()
            slots.deallocate()
        }
    }

    mutating func checkBlock(
        _ block: BlockInfo,
        _ raw: [UInt8],
        decoded: [Decoded],
        rel: String,
        damaged: inout [(range: Range<Int64>, why: String, hashes: [String])]
    ) {
        for (i, record) in BlockRecords(raw).enumerated() {
            let start = record.rlp.lowerBound
            let len = record.rlp.count
            let seq = block.firstSequence + UInt64(i)
            report.records += 1
            let rlp = Array(raw[record.rlp])
            var sent: UInt32 = 0
            var topic = Topic(rawValue: 0)
            var hash: [UInt8]?
            if full {
                switch decoded[i] {
                case .envelope(let s, let t, let h):
                    sent = s
                    topic = t
                    hash = h
                    let p = h.withUnsafeBytes {
                        HashPrefix(a: $0.loadUnaligned(as: UInt64.self), b: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                    }
                    if !seen.insert(p).inserted {
                        add(
                            .init(
                                .data,
                                "duplicate",
                                file: rel,
                                segment: block.segment,
                                range: block.byteRange,
                                hashes: [h.hex],
                                detail: "record \(seq) repeats an envelope stored earlier (compact removes duplicates)"
                            )
                        )
                    }
                case .invalid(let why):
                    add(
                        .init(
                            .data,
                            "undecodable",
                            file: rel,
                            segment: block.segment,
                            range: block.byteRange,
                            hashes: [EnvelopeFields.hash(rlp).hex],
                            detail: "record \(seq) (payload offset \(start)) is not a valid envelope: \(why)"
                        )
                    )
                    continue
                }
            } else {
                guard let f = EnvelopeFields.parse(rlp) else {
                    add(
                        .init(
                            .data,
                            "undecodable",
                            file: rel,
                            segment: block.segment,
                            range: block.byteRange,
                            detail: "record \(seq) (payload offset \(start)) does not start like an envelope"
                        )
                    )
                    continue
                }
                sent = f.sentTime
                topic = f.topic
            }
            matchIndex(
                block: block,
                position: start,
                length: len,
                sent: sent,
                topic: topic,
                hash: hash,
                rlp: rlp,
                seq: seq,
                rel: rel,
                damaged: &damaged
            )
        }
    }

    mutating func matchIndex(
        block: BlockInfo,
        position: Int,
        length: Int,
        sent: UInt32,
        topic: Topic,
        hash: [UInt8]?,
        rlp: [UInt8],
        seq: UInt64,
        rel: String,
        damaged: inout [(range: Range<Int64>, why: String, hashes: [String])]
    ) {
        guard index != nil else { return }
        let here = (block.segment, block.offset, position)
        // Rows before this record point at nothing (or into damage).
        while let r = nextRow(), r.sortKey() < here {
            popRow()
            if r.location.segment == block.segment, let d = damaged.firstIndex(where: { $0.range.contains(r.location.blockOffset) }) {
                damaged[d].hashes.append(r.hash)
            } else {
                add(
                    .init(
                        .index,
                        "index-extra",
                        file: Self.segmentPath(r.location.segment),
                        segment: r.location.segment,
                        range: r.location.blockOffset..<(r.location.blockOffset + 1),
                        hashes: [r.hash],
                        detail: "index entry points at no record (block at \(r.location.blockOffset), position \(r.location.position))"
                    )
                )
            }
        }
        if let r = nextRow(), r.sortKey() == here {
            popRow()
            var problems: [String] = []
            if r.location.length != length { problems.append("length \(r.location.length) ≠ \(length)") }
            if r.location.compressed != block.compressed { problems.append("compression flag differs") }
            if r.topic != topic.bytes { problems.append("topic \(r.topic.hex) ≠ \(topic)") }
            let rowKey = Cursor(trusted: r.key)
            if rowKey.sentTime != sent { problems.append("sent time \(rowKey.sentTime) ≠ \(sent)") }
            if let hash, rowKey.hash != hash { problems.append("hash differs") }
            if !problems.isEmpty {
                add(
                    .init(
                        .index,
                        "index-mismatch",
                        file: rel,
                        segment: block.segment,
                        range: block.byteRange,
                        hashes: [hash?.hex ?? r.hash],
                        detail: "index entry of record \(seq) does not match it: " + problems.joined(separator: ", ")
                    )
                )
            }
            return
        }
        if let mark = highWaterMark, (block.segment, block.offset) >= (mark.segment, mark.offset) {
            unindexedAfterMark += 1
            return
        }
        let h = hash ?? EnvelopeFields.hash(rlp)
        let elsewhere = (try? index?.location(of: EnvelopeKey(sentTime: sent, hash: h, topic: topic))) ?? nil
        if let elsewhere {
            let same = (try? readers.read(elsewhere)).map { EnvelopeFields.hash($0.rlp) == h } ?? false
            if !same {
                add(
                    .init(
                        .index,
                        "index-mismatch",
                        file: rel,
                        segment: block.segment,
                        range: block.byteRange,
                        hashes: [h.hex],
                        detail:
                            "record \(seq) is indexed at the wrong place (segment \(elsewhere.segment), block \(elsewhere.blockOffset), position \(elsewhere.position))"
                    )
                )
            } else if !full {
                add(
                    .init(
                        .data,
                        "duplicate",
                        file: rel,
                        segment: block.segment,
                        range: block.byteRange,
                        hashes: [h.hex],
                        detail: "record \(seq) repeats the envelope indexed in segment \(elsewhere.segment) (compact removes duplicates)"
                    )
                )
            }
        } else {
            add(
                .init(
                    .index,
                    "index-missing",
                    file: rel,
                    segment: block.segment,
                    range: block.byteRange,
                    hashes: [h.hex],
                    detail: "record \(seq) is not indexed (reindex or verify --repair adds it)"
                )
            )
        }
    }

    mutating func checkTopicStats() {
        guard let index else { return }
        do throws(ArchiveError) {
            for m in try index.topicStatsMismatches() {
                add(
                    .init(
                        .index,
                        "topic-stats",
                        file: ArchiveIndex.fileName,
                        detail: "topic \(m.topicHex.lowercased()) has \(m.rows) entries but its topics row says \(m.recorded)"
                    )
                )
            }
        } catch {
            add(.init(.index, "index-unreadable", file: ArchiveIndex.fileName, detail: error.message))
        }
    }

    mutating func sendProgress(force: Bool = false) {
        let now = Date()
        guard force || now.timeIntervalSince(lastProgress) >= 0.5 else { return }
        lastProgress = now
        progress(
            VerifyProgress(
                bytes: report.bytes,
                totalBytes: totalBytes,
                records: report.records,
                findings: report.findings.count,
                seconds: now.timeIntervalSince(started)
            )
        )
    }
}
