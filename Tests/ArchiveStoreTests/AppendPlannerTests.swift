import TestSupport
import Testing
import Whisper

@testable import ArchiveStore

/// The writer's plan of a group, without threads, files or an index: the test plays the writer thread, with a
/// set of stored keys as the index.
@Suite("Append planner")
struct AppendPlannerTests {
    /// What the writer did, step by step.
    enum Done: Equatable {
        case roll
        /// Rows inserted (their record positions, in arrival order), and how many were new.
        case insert(positions: [Int], new: Int)
        /// A block of these records, at this segment offset with this first sequence number.
        case flush(records: Int, offset: Int64, firstSequence: UInt64)
    }

    static let header = SegmentFormat.recordHeaderLength

    /// `n` distinct envelopes whose records all take the same bytes (one-byte TTL, eight-byte nonce).
    static func envelopes(_ n: Int, size: Int = 64) -> [Envelope] {
        (0..<n).map { i in
            Envelope(
                expiry: 1_600_000_000 + UInt32(i % 3),
                ttl: 50,
                topic: StoreFixtures.topics[i % 4],
                data: [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: size),
                nonce: 0x0100_0000_0000_0000 | UInt64(i)
            )
        }
    }

    static func active(
        first: UInt64 = 0,
        bytes: Int64 = Int64(SegmentHeader.length),
        records: Int = 0,
        created: UInt32 = 1_000
    ) -> SegmentInfo {
        SegmentInfo(
            firstSequence: first,
            bytes: bytes,
            blocks: 0,
            records: records,
            minSentTime: nil,
            maxSentTime: nil,
            created: created,
            sealed: false
        )
    }

    static func limits(block: Int = 1 << 20, segment: Int64 = 1 << 30, age: Int = 3600) -> AppendPlanner.Limits {
        AppendPlanner.Limits(blockMaxBytes: block, segmentMaxBytes: segment, segmentMaxAge: age)
    }

    /// Runs the plan to its end, as the writer does: `stored` plays the index (keys already there are duplicates,
    /// and so is a repeat inside the group), a block takes its header and raw payload, and a roll starts a segment
    /// at the next sequence number. Returns the steps and the moved rows.
    static func run(
        _ planner: inout AppendPlanner,
        stored: Set<[UInt8]> = [],
        now: UInt32 = 2_000
    )
        -> (steps: [Done], moved: [PlannedRow])
    {
        var keys = stored
        var steps: [Done] = []
        var moved: [PlannedRow] = []
        while true {
            switch planner.next() {
            case .roll:
                steps.append(.roll)
                planner.rolled(to: active(first: planner.position.nextSequence, created: now))
            case .insert(let rows, let order):
                #expect(
                    order
                        == rows.indices.sorted { a, b in
                            (rows[a].topic, rows[a].sentTime) < (rows[b].topic, rows[b].sentTime)
                                || ((rows[a].topic, rows[a].sentTime) == (rows[b].topic, rows[b].sentTime)
                                    && rows[a].hash.lexicographicallyPrecedes(rows[b].hash))
                        }
                )
                let isNew = rows.map { keys.insert($0.hash).inserted }
                steps.append(.insert(positions: rows.map(\.location.position), new: isNew.filter { $0 }.count))
                let placement = planner.inserted(isNew: isNew)
                #expect(placement.records.count == isNew.filter { $0 }.count)
                moved += placement.moved
            case .flush:
                steps.append(
                    .flush(
                        records: planner.blockRecords.count,
                        offset: planner.position.active.bytes,
                        firstSequence: planner.position.nextSequence
                    )
                )
                planner.flushed(length: BlockHeader.length + planner.blockSize)
            case .done:
                return (steps, moved)
            }
        }
    }

    /// Records fill a block in arrival order until the next one does not fit; each block starts where the one
    /// before ended, and its sequence numbers follow on.
    @Test func recordsFillBlocksInArrivalOrder() {
        let envs = Self.envelopes(5, size: 100)
        let record = envs[0].rlp.count + Self.header
        #expect(envs.allSatisfy { $0.rlp.count + Self.header == record })
        let start = Self.active(first: 10, records: 3)
        var planner = AppendPlanner(
            appends: [Array(envs[0..<3]), Array(envs[3...])],
            at: WriterPosition(active: start, nextSequence: 13),
            limits: Self.limits(block: 2 * record),
            now: 2_000
        )
        let (steps, moved) = Self.run(&planner)
        let first = start.bytes
        let block = Int64(BlockHeader.length + 2 * record)
        #expect(
            steps == [
                .insert(positions: [Self.header, record + Self.header], new: 2),
                .flush(records: 2, offset: first, firstSequence: 13),
                .insert(positions: [Self.header, record + Self.header], new: 2),
                .flush(records: 2, offset: first + block, firstSequence: 15),
                .insert(positions: [Self.header], new: 1),
                .flush(records: 1, offset: first + 2 * block, firstSequence: 17),
            ]
        )
        #expect(moved.isEmpty)
        #expect(
            planner.results == [
                AppendResult(added: 3, duplicates: 0, bytes: 3 * envs[0].rlp.count),
                AppendResult(added: 2, duplicates: 0, bytes: 2 * envs[0].rlp.count),
            ]
        )
        #expect(planner.position.nextSequence == 18)
        #expect(planner.position.active.records == 3 + 5)
        #expect(planner.position.active.blocks == 3)
        #expect(planner.blockStart.active == planner.position.active)
        #expect(planner.topicStats.values.reduce(0) { $0 + $1.count } == 5)
    }

    /// A record larger than a block gets a block of its own rather than none.
    @Test func aRecordLargerThanABlockGetsABlockOfItsOwn() {
        let envs = Self.envelopes(2, size: 500)
        var planner = AppendPlanner(
            appends: [envs],
            at: WriterPosition(active: Self.active(), nextSequence: 0),
            limits: Self.limits(block: 100),
            now: 2_000
        )
        let (steps, _) = Self.run(&planner)
        #expect(steps.count == 4)
        #expect(steps.filter { if case .flush(records: 1, _, _) = $0 { true } else { false } }.count == 2)
    }

    /// Duplicates (of stored envelopes, and repeats inside the group) are counted, not stored, and the new records
    /// after them in the same block move up into their place.
    @Test func duplicatesAreLeftOutAndTheRecordsAfterMoveUp() {
        let envs = Self.envelopes(4, size: 80)
        let record = envs[0].rlp.count + Self.header
        // Append 0: a stored envelope, then two new ones; append 1: a repeat of append 0's second, and a new one.
        var planner = AppendPlanner(
            appends: [[envs[0], envs[1], envs[2]], [envs[1], envs[3]]],
            at: WriterPosition(active: Self.active(), nextSequence: 0),
            limits: Self.limits(),
            now: 2_000
        )
        let (steps, moved) = Self.run(&planner, stored: [envs[0].hash])
        #expect(
            steps == [
                .insert(positions: (0..<5).map { $0 * record + Self.header }, new: 3),
                .flush(records: 3, offset: Int64(SegmentHeader.length), firstSequence: 0),
            ]
        )
        // envs[1] and envs[2] move up one record; envs[3] moves up past both duplicates.
        #expect(moved.map(\.hash) == [envs[1].hash, envs[2].hash, envs[3].hash])
        #expect(moved.map(\.location.position) == (0..<3).map { $0 * record + Self.header })
        #expect(
            planner.results == [
                AppendResult(added: 2, duplicates: 1, bytes: 2 * envs[0].rlp.count),
                AppendResult(added: 1, duplicates: 1, bytes: envs[0].rlp.count),
            ]
        )
        #expect(planner.position.nextSequence == 3)
        #expect(planner.topicStats.values.reduce(0) { $0 + $1.count } == 3)
    }

    /// A group of duplicates only plans no block.
    @Test func onlyDuplicatesPlanNoBlock() {
        let envs = Self.envelopes(3)
        let start = WriterPosition(active: Self.active(), nextSequence: 7)
        var planner = AppendPlanner(appends: [envs], at: start, limits: Self.limits(), now: 2_000)
        let (steps, moved) = Self.run(&planner, stored: Set(envs.map(\.hash)))
        #expect(steps == [.insert(positions: (0..<3).map { $0 * (envs[0].rlp.count + Self.header) + Self.header }, new: 0)])
        #expect(moved.isEmpty)
        #expect(planner.results == [AppendResult(added: 0, duplicates: 3, bytes: 0)])
        #expect(planner.position.active == start.active && planner.position.nextSequence == 7)
    }

    /// A full or old active segment that holds records is sealed before the next block, and the rows after the
    /// roll point into the new segment; an empty one is never sealed.
    @Test(arguments: [
        // (bytes, records, created, expect a roll)
        (Int64(9_000), 5, UInt32(1_900), true),  // full
        (Int64(100), 5, UInt32(1_000), true),  // old: 1,000 s at 2,000 with a 600 s limit
        (Int64(100), 5, UInt32(1_900), false),  // neither
        (Int64(9_000), 0, UInt32(1_000), false),  // full and old, but empty
    ])
    func aFullOrOldSegmentIsSealedBeforeTheNextBlock(bytes: Int64, records: Int, created: UInt32, roll: Bool) {
        let envs = Self.envelopes(2)
        let start = WriterPosition(active: Self.active(first: 40, bytes: bytes, records: records, created: created), nextSequence: 45)
        var planner = AppendPlanner(appends: [envs], at: start, limits: Self.limits(segment: 8_192, age: 600), now: 2_000)
        #expect(planner.next().isRoll == roll)
        if roll {
            planner.rolled(to: Self.active(first: 45, created: 2_000))
            guard case .insert(let rows, _) = planner.next() else {
                Issue.record("no insert after the roll")
                return
            }
            #expect(rows.allSatisfy { $0.location.segment == 45 && $0.location.blockOffset == Int64(SegmentHeader.length) })
            #expect(planner.blockStart.active.firstSequence == 45)
        }
    }

    /// The segment is sealed between blocks only: a group that fills it is planned into the next one.
    @Test func aGroupThatFillsTheSegmentRollsBetweenItsBlocks() {
        let envs = Self.envelopes(6, size: 100)
        let record = envs[0].rlp.count + Self.header
        let headerBytes = Int64(SegmentHeader.length)
        // Two records a block; the segment is full after two blocks.
        let segment = headerBytes + Int64(2 * (BlockHeader.length + 2 * record))
        var planner = AppendPlanner(
            appends: [envs],
            at: WriterPosition(active: Self.active(), nextSequence: 0),
            limits: Self.limits(block: 2 * record, segment: segment),
            now: 2_000
        )
        let (steps, _) = Self.run(&planner)
        let rolls = steps.enumerated().filter { $0.element == .roll }.map(\.offset)
        #expect(rolls == [4])
        #expect(steps[5...].first == .insert(positions: [Self.header, record + Self.header], new: 2))
        #expect(steps.last == .flush(records: 2, offset: headerBytes, firstSequence: 4))
        #expect(planner.position.active.firstSequence == 4 && planner.position.active.records == 2)
    }
}

extension AppendPlanner.Step {
    var isRoll: Bool { if case .roll = self { true } else { false } }
}
