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
        for s in segments where s.firstSequence <= mark.segment {
            if Task.isCancelled { break }
            try swapLock.withReadLock { () throws(ArchiveError) in
                let file: SegmentFile
                do throws(ArchiveError) { file = try readers.currentFile(s.firstSequence) } catch  where error.errno == ENOENT { return }
                let end = s.firstSequence == mark.segment ? mark.offset : try file.size()
                var scanner = SegmentScanner(file: file, segment: s.firstSequence, to: end, check: .inPlace)
                while let item = scanner.next() {
                    switch item {
                    case .block(let block, _):
                        bytes += Int64(block.length)
                    case .damaged(let range, let reason):
                        damaged.append(DamagedBlock(segment: s.firstSequence, path: file.path, range: range, reason: reason))
                        bytes += range.upperBound - range.lowerBound
                    }
                }
            }
        }
        for d in damaged { logger.warning("\(d)") }
        return (damaged, bytes)
    }
}
