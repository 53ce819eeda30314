import Whisper

/// Plans where a group of appends goes: the index rows of the records that fit the block being built, where each
/// new record lands once the duplicates are left out, when a block is complete, and when the active segment is
/// sealed first. A value with no index, file or clock: the writer thread asks it for the next ``Step``, does it
/// (inserts the rows, encodes the block, rolls the segment), and reports back what that found.
///
/// Records go into blocks in arrival order. Each round plans the records that fit the block being built as if all
/// were new, so that their rows can be inserted in key order (neighbouring rows share index pages); only when some
/// key already existed are the duplicates told apart and the rows after them moved up.
struct AppendPlanner {
    /// The sizes and the age that end a block and a segment.
    struct Limits {
        /// Raw payload bytes a block holds at most (a larger record gets a block of its own).
        var blockMaxBytes: Int
        /// A segment this large is sealed before the next block.
        var segmentMaxBytes: Int64
        /// A segment with records created this many seconds ago is sealed before the next block.
        var segmentMaxAge: Int

        init(blockMaxBytes: Int, segmentMaxBytes: Int64, segmentMaxAge: Int) {
            self.blockMaxBytes = blockMaxBytes
            self.segmentMaxBytes = segmentMaxBytes
            self.segmentMaxAge = segmentMaxAge
        }

        init(_ configuration: ArchiveConfiguration) {
            self.init(
                blockMaxBytes: configuration.blockMaxBytes,
                segmentMaxBytes: configuration.segmentMaxBytes,
                segmentMaxAge: configuration.segmentMaxAge
            )
        }
    }

    /// What the writer does next.
    enum Step {
        /// Seal the active segment and start the next one, then call ``rolled(to:)``.
        case roll
        /// Insert `rows` in `order` (key order), then call ``inserted(isNew:)`` with what the index already held.
        case insert(rows: [PlannedRow], order: [Int])
        /// The block being built is complete: encode ``blockRecords`` at ``position`` and call ``flushed(length:)``.
        case flush
        /// Every record is planned and every block flushed.
        case done
    }

    /// Where a round's new records go.
    struct Placement {
        /// The new records in block order, as (append, envelope) indices: they are added to the block being built.
        var records: [(append: Int, envelope: Int)] = []
        /// Rows inserted at a place that a duplicate before them left free: their records move up.
        var moved: [PlannedRow] = []
    }

    private enum Awaiting { case nothing, roll, insert, flush }

    private let appends: [[Envelope]]
    private let limits: Limits
    private let now: UInt32
    /// Every record of the group, as (append, envelope) indices, in arrival order.
    private let refs: [(Int, Int)]
    /// The first record not planned yet.
    private var nextRecord = 0
    /// The rows of the round being inserted.
    private var round: [PlannedRow] = []
    private var awaiting = Awaiting.nothing

    /// The active segment as planned so far (the records of the block being built counted, its bytes not yet) and
    /// the first sequence number of the block being built.
    private(set) var position: WriterPosition
    /// The position before the block being built: after the last block flushed.
    private(set) var blockStart: WriterPosition
    /// The records of the block being built, as (append, envelope) indices.
    private(set) var blockRecords: [(append: Int, envelope: Int)] = []
    /// Raw payload bytes of the block being built.
    private(set) var blockSize = 0
    /// What each append added, so far.
    private(set) var results: [AppendResult]
    /// Count and sent-time range of the new records, per topic.
    private(set) var topicStats: [UInt32: TopicStats] = [:]

    /// Plans `appends` (each a batch of envelopes) at `position`, between two blocks, at time `now`.
    init(appends: [[Envelope]], at position: WriterPosition, limits: Limits, now: UInt32) {
        self.appends = appends
        self.limits = limits
        self.now = now
        self.position = position
        self.blockStart = position
        self.results = [AppendResult](repeating: AppendResult(), count: appends.count)
        self.refs = appends.indices.flatMap { a in appends[a].indices.map { (a, $0) } }
    }

    /// True when the active segment is to be sealed before the next block: it holds records and is full or old.
    private var rollDue: Bool {
        let active = position.active
        guard active.records > 0 else { return false }
        return active.bytes >= limits.segmentMaxBytes || Int(now) - Int(active.created) >= limits.segmentMaxAge
    }

    /// The next step; the step before must have been reported back.
    mutating func next() -> Step {
        precondition(awaiting == .nothing, "the last step was not reported back")
        guard nextRecord < refs.count else {
            if blockRecords.isEmpty { return .done }
            awaiting = .flush
            return .flush
        }
        if blockRecords.isEmpty && rollDue {
            awaiting = .roll
            return .roll
        }
        var size = blockSize
        round.removeAll(keepingCapacity: true)
        while nextRecord + round.count < refs.count {
            let (a, e) = refs[nextRecord + round.count]
            let envelope = appends[a][e]
            let recordSize = envelope.rlp.count + SegmentFormat.recordHeaderLength
            if size > 0 && size + recordSize > limits.blockMaxBytes { break }
            round.append(
                PlannedRow(
                    topic: envelope.topic.rawValue,
                    sentTime: envelope.sentTime,
                    hash: envelope.hash,
                    location: RecordLocation(
                        segment: position.active.firstSequence,
                        blockOffset: position.active.bytes,
                        compressed: false,
                        position: size + SegmentFormat.recordHeaderLength,
                        length: envelope.rlp.count
                    )
                )
            )
            size += recordSize
        }
        if round.isEmpty {
            // The next record does not fit the block being built.
            awaiting = .flush
            return .flush
        }
        let order = round.indices.sorted { [round] a, b in
            let x = round[a]
            let y = round[b]
            if x.topic != y.topic { return x.topic < y.topic }
            if x.sentTime != y.sentTime { return x.sentTime < y.sentTime }
            return x.hash.lexicographicallyPrecedes(y.hash)
        }
        awaiting = .insert
        return .insert(rows: round, order: order)
    }

    /// Reports a roll: `active` is the new, empty active segment.
    mutating func rolled(to active: SegmentInfo) {
        precondition(awaiting == .roll)
        awaiting = .nothing
        position.active = active
        blockStart = position
    }

    /// Reports the insert of the round's rows: `isNew[k]` is false when the key of row `k` was already stored
    /// (before this group or earlier in it). Returns where the new records go.
    mutating func inserted(isNew: [Bool]) -> Placement {
        precondition(awaiting == .insert && isNew.count == round.count)
        awaiting = .nothing
        var placement = Placement()
        var size = blockSize
        for (k, row) in round.enumerated() {
            let (a, e) = refs[nextRecord + k]
            let length = appends[a][e].rlp.count
            guard isNew[k] else {
                results[a].duplicates += 1
                continue
            }
            if size + SegmentFormat.recordHeaderLength != row.location.position {
                // A duplicate before it in this block: the record moves up.
                var moved = row
                moved.location.position = size + SegmentFormat.recordHeaderLength
                placement.moved.append(moved)
            }
            size += length + SegmentFormat.recordHeaderLength
            placement.records.append((a, e))
            blockRecords.append((a, e))
            position.active.add(sentTime: row.sentTime)
            topicStats[row.topic, default: TopicStats()].add(row.sentTime)
            results[a].added += 1
            results[a].bytes += length
        }
        blockSize = size
        nextRecord += round.count
        return placement
    }

    /// Reports the block being built as encoded into `length` bytes of the segment.
    mutating func flushed(length: Int) {
        precondition(awaiting == .flush)
        awaiting = .nothing
        position.active.bytes += Int64(length)
        position.active.blocks += 1
        position.nextSequence += UInt64(blockRecords.count)
        blockRecords.removeAll(keepingCapacity: true)
        blockSize = 0
        blockStart = position
    }
}
