import Foundation

/// Read-only handles on segment files, shared by queries and scans, and a one-block cache for LZ4 blocks.
final class SegmentReaders: @unchecked Sendable {
    let directory: String
    private let lock = NSLock()
    private var files: [UInt64: SegmentFile] = [:]
    private var cachedBlock: (segment: UInt64, offset: Int64, raw: [UInt8])?

    init(directory: String) { self.directory = directory }

    func path(_ segment: UInt64) -> String { directory + "/" + SegmentFormat.segmentFileName(firstSequence: segment) }

    func file(_ segment: UInt64) throws(ArchiveError) -> SegmentFile {
        lock.lock()
        defer { lock.unlock() }
        if let f = files[segment] { return f }
        let f = try SegmentFile(path: path(segment), writable: false)
        files[segment] = f
        return f
    }

    /// The handle of a segment, checked against the file now at its path (a compaction in another process may
    /// have replaced it): reopened when the path names another file, `ENOENT` when there is none.
    func currentFile(_ segment: UInt64) throws(ArchiveError) -> SegmentFile {
        var st = stat()
        guard stat(path(segment), &st) == 0 else {
            let e = errno
            forget(segment)
            throw ArchiveError(.io, "cannot open: \(String(cString: strerror(e)))", path: path(segment), segment: segment, errno: e)
        }
        let cached = try file(segment)
        var cst = stat()
        if fstat(cached.fd, &cst) == 0 && cst.st_ino == st.st_ino && cst.st_dev == st.st_dev { return cached }
        forget(segment)
        return try file(segment)
    }

    /// Forgets a segment's handle (after it was dropped or rewritten).
    func forget(_ segment: UInt64) {
        lock.lock()
        files[segment] = nil
        if cachedBlock?.segment == segment { cachedBlock = nil }
        lock.unlock()
    }

    /// Reads one record: its RLP and arrival time.
    func read(_ loc: RecordLocation) throws(ArchiveError) -> (rlp: [UInt8], arrival: UInt32) {
        let f = try file(loc.segment)
        let recordStart = loc.position - SegmentFormat.recordHeaderLength
        guard recordStart >= 0 else {
            throw ArchiveError(
                .corrupt,
                "index points before the first record of a block",
                path: f.path,
                segment: loc.segment,
                offset: loc.blockOffset
            )
        }
        if !loc.compressed {
            if let why = BlockReader.checkRawBlockOnce(f, at: loc.blockOffset) {
                throw ArchiveError(
                    .corrupt,
                    "the block holding this record is damaged: \(why)",
                    path: f.path,
                    segment: loc.segment,
                    offset: loc.blockOffset
                )
            }
            let at = loc.blockOffset + Int64(BlockHeader.length + recordStart)
            let record = try f.withMappedBytes(at: at, count: loc.length + SegmentFormat.recordHeaderLength) {
                r -> (rlp: [UInt8], arrival: UInt32)? in
                guard Int(UInt32(littleEndian: r.loadUnaligned(as: UInt32.self))) == loc.length else { return nil }
                let arrival = UInt32(littleEndian: r.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                return (Array(UnsafeRawBufferPointer(rebasing: r[SegmentFormat.recordHeaderLength...])), arrival)
            }
            guard let record, let record else {
                throw ArchiveError(
                    .corrupt,
                    "index entry does not match the record in the segment; run reindex",
                    path: f.path,
                    segment: loc.segment,
                    offset: at
                )
            }
            return record
        }
        let raw = try block(loc.segment, f, loc.blockOffset)
        guard loc.position + loc.length <= raw.count, Int(raw.u32LE(recordStart)) == loc.length else {
            throw ArchiveError(
                .corrupt,
                "index entry does not match the record in the block; run reindex",
                path: f.path,
                segment: loc.segment,
                offset: loc.blockOffset
            )
        }
        return (Array(raw[loc.position..<(loc.position + loc.length)]), raw.u32LE(recordStart + 4))
    }

    private func block(_ segment: UInt64, _ f: SegmentFile, _ offset: Int64) throws(ArchiveError) -> [UInt8] {
        lock.lock()
        if let c = cachedBlock, c.segment == segment, c.offset == offset {
            lock.unlock()
            return c.raw
        }
        lock.unlock()
        switch BlockReader.read(f, segment: segment, at: offset, fileSize: try f.size()) {
        case .block(_, let raw):
            lock.lock()
            cachedBlock = (segment, offset, raw)
            lock.unlock()
            return raw
        case .end, .invalid:
            throw ArchiveError(.corrupt, "the block named by the index is not valid", path: f.path, segment: segment, offset: offset)
        }
    }
}
