/// Walks the blocks of one segment file from an offset to an end, yielding each valid block or each damaged byte
/// range, and owns the resync after damage (docs/FORMAT.md, "Validity and recovery").
///
/// The resync rule: the lengths in a damaged header cannot be trusted, so the scan goes on at the next offset after
/// the damage's start where the block magic begins a block that is valid as a whole (``BlockReader/read``), or at
/// the end when there is none. The damaged range runs from the invalid block to there. Callers decide what a
/// damaged range means: verify reports it, repair quarantines it, iteration and block checks skip it, and the
/// scans that must stop at the first invalid block (recovery, reindex, compaction) make the scanner with
/// `resync: false`, which yields the range to the end and stops.
struct SegmentScanner {
    /// How much of each block is checked.
    enum Check {
        /// Read and decode every block whole (header, CRC32C, codec, records); yields the raw payload.
        case decode
        /// Check headers, and the CRC32C of raw blocks in place through the file's mapping, once per open file
        /// (``BlockReader/checkInPlace``); LZ4 payloads are not read. Yields no payload.
        case inPlace
    }

    /// What the scan found at its offset.
    enum Item {
        /// A valid block, and its raw payload (nil with ``Check/inPlace``).
        case block(BlockInfo, payload: [UInt8]?)
        /// Bytes that are not a valid block, and why the first of them is not.
        case damaged(Range<Int64>, reason: String)
    }

    /// The file scanned.
    let file: SegmentFile
    /// Its segment (first sequence number).
    let segment: UInt64
    /// Where the scan stops (the file size, a manifest length or a high-water mark).
    let end: Int64
    let resync: Bool
    let check: Check
    /// Where the next block starts.
    private(set) var offset: Int64

    /// A scan of `file` (segment `segment`) from `from` (by default the first block) to `end`.
    init(
        file: SegmentFile,
        segment: UInt64,
        from: Int64 = Int64(SegmentHeader.length),
        to end: Int64,
        resync: Bool = true,
        check: Check = .decode
    ) {
        self.file = file
        self.segment = segment
        self.end = end
        self.resync = resync
        self.check = check
        offset = from
    }

    /// The next block or damaged range, or nil at the end.
    mutating func next() -> Item? {
        guard offset < end else { return nil }
        let found: Result<(BlockInfo, [UInt8]?), BlockDamage>
        switch check {
        case .decode:
            switch BlockReader.read(file, segment: segment, at: offset, fileSize: end) {
            case .end: return nil
            case .block(let info, let raw): found = .success((info, raw))
            case .invalid(let why): found = .failure(BlockDamage(why))
            }
        case .inPlace:
            found = BlockReader.checkInPlace(file, segment: segment, at: offset, end: end).map { ($0, nil) }
        }
        switch found {
        case .success(let (info, payload)):
            offset += Int64(info.length)
            return .block(info, payload: payload)
        case .failure(let damage):
            let start = offset
            offset = resync ? Self.nextValidBlock(file, segment: segment, from: start + 1, to: end) : end
            return .damaged(start..<offset, reason: damage.reason)
        }
    }

    /// Calls `body` for each valid block and its raw payload, and stops at the first invalid one.
    /// - Returns: where the valid blocks end, and why the bytes there are not a block (nil when the scan reached `end`).
    mutating func forEachValidBlock(_ body: (BlockInfo, [UInt8]) throws(ArchiveError) -> Void) throws(ArchiveError) -> (end: Int64, invalid: String?)
    {
        while let item = next() {
            switch item {
            case .block(let info, let payload): try body(info, payload ?? [])
            case .damaged(let range, let reason): return (range.lowerBound, reason)
            }
        }
        return (offset, nil)
    }

    /// Calls `body` for each valid block of `file` in `from..<to` and its raw payload; stops at the first invalid one.
    /// - Returns: where the valid blocks end, and why the bytes there are not a block (nil when the scan reached `to`).
    static func forEachValidBlock(
        _ file: SegmentFile,
        segment: UInt64,
        from: Int64 = Int64(SegmentHeader.length),
        to: Int64,
        _ body: (BlockInfo, [UInt8]) throws(ArchiveError) -> Void
    ) throws(ArchiveError) -> (end: Int64, invalid: String?) {
        var scanner = SegmentScanner(file: file, segment: segment, from: from, to: to, resync: false)
        return try scanner.forEachValidBlock(body)
    }

    /// The offset of the first valid block in `from..<to` (found by its magic, then read whole), or `to`.
    static func nextValidBlock(_ file: SegmentFile, segment: UInt64, from: Int64, to: Int64) -> Int64 {
        let magic = BlockHeader.magic
        var pos = from
        let chunk = 1 << 20
        while pos < to {
            var buf = [UInt8](repeating: 0, count: Int(min(Int64(chunk + 3), to - pos)))
            guard let n = try? file.read(into: &buf, at: pos), n >= 4 else { return to }
            var i = 0
            while i + 4 <= n {
                if buf[i] == magic[0] && buf[i + 1] == magic[1] && buf[i + 2] == magic[2] && buf[i + 3] == magic[3] {
                    if case .block = BlockReader.read(file, segment: segment, at: pos + Int64(i), fileSize: to) { return pos + Int64(i) }
                }
                i += 1
            }
            pos += Int64(max(1, n - 3))
            if n < chunk { break }
        }
        return to
    }
}
