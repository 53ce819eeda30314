import Foundation

extension Archive {
    /// Checks the CRC32C of every raw block up to the index's high-water mark, once per open archive.
    ///
    /// A query checks a raw block the first time it reads a record from it, and that first read pays for
    /// the whole block (1 MiB or more under load). `serve` runs this in the background when it starts, so
    /// that requests find their blocks checked; a block that fails stays unchecked, and queries keep
    /// skipping it with a warning. Segments are taken one at a time, so compaction is held up by one
    /// segment at most. It stops early when the calling task is cancelled.
    /// - Returns: the blocks that failed, and the bytes checked.
    @discardableResult
    public func checkBlocks() throws(ArchiveError) -> (damaged: [DamagedBlock], bytes: Int64) {
        let (segments, mark) = try readSnapshot()
        guard let mark else { return ([], 0) }
        var damaged: [DamagedBlock] = []
        var bytes: Int64 = 0
        let h = Int64(SegmentFormat.blockHeaderLength)
        for s in segments where s.firstSequence <= mark.segment {
            if Task.isCancelled { break }
            try swapLock.withReadLock { () throws(ArchiveError) in
                let file: SegmentFile
                do throws(ArchiveError) { file = try readers.currentFile(s.firstSequence) } catch where error.errno == ENOENT { return }
                let end = s.firstSequence == mark.segment ? mark.offset : try file.size()
                var offset = Int64(SegmentFormat.segmentHeaderLength)
                while offset + h <= end {
                    let header = try? file.withMappedBytes(at: offset, count: Int(h)) { b -> (stored: Int64, raw: Bool)? in
                        guard b.prefix(4).elementsEqual(SegmentFormat.blockMagic) else { return nil }
                        return (Int64(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 8, as: UInt32.self))),
                                b[28] == SegmentFormat.codecRaw)
                    }
                    var why: String?
                    var next = offset
                    if let found = header, let header = found, offset + h + header.stored <= end {
                        next = offset + h + header.stored
                        if header.raw { why = BlockReader.checkRawBlockOnce(file, at: offset) }
                    } else {
                        why = "no valid block header at this offset"
                    }
                    if let why {
                        // The lengths in a damaged header cannot be trusted: go on at the next valid block.
                        next = BlockReader.nextValidBlock(file, from: offset + 1, to: end, segment: s.firstSequence)
                        damaged.append(DamagedBlock(segment: s.firstSequence, path: file.path, range: offset..<next, reason: why))
                    }
                    bytes += next - offset
                    offset = next
                }
            }
        }
        for d in damaged { logger.warning("\(d)") }
        return (damaged, bytes)
    }
}
