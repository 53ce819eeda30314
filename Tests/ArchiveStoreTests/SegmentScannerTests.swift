import Foundation
import TestSupport
import Testing

@testable import ArchiveStore

@Suite("Segment scanner")
struct SegmentScannerTests {
    typealias L = SegmentLayout

    /// What a scan yields, in plain values.
    enum Seen: Equatable {
        case block(offset: Int64, first: UInt64, records: Int, payload: [UInt8]?)
        case damaged(Range<Int64>)
    }

    func file(_ bytes: [UInt8]) throws -> SegmentFile {
        let path = try CLI.temporaryDirectory("wa-scan").path + "/00000000000000000001.seg"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try SegmentFile(path: path, writable: false)
    }

    func scan(_ bytes: [UInt8], resync: Bool = true, check: SegmentScanner.Check = .decode) throws -> (seen: [Seen], reasons: [String]) {
        var scanner = SegmentScanner(file: try file(bytes), segment: 1, to: Int64(bytes.count), resync: resync, check: check)
        var seen: [Seen] = []
        var reasons: [String] = []
        while let item = scanner.next() {
            switch item {
            case .block(let info, let payload):
                seen.append(.block(offset: info.offset, first: info.firstSequence, records: info.recordCount, payload: payload))
            case .damaged(let range, let reason):
                seen.append(.damaged(range))
                reasons.append(reason)
            }
        }
        return (seen, reasons)
    }

    let a = L.block(first: 1, records: L.records(2))
    let b = L.block(first: 3, records: L.records(3, seed: 9))
    var header: [UInt8] { L.segmentHeader(first: 1) }

    @Test func goodFileYieldsEveryBlock() throws {
        let bytes = header + a + b
        let expected: [Seen] = [
            .block(offset: 32, first: 1, records: 2, payload: Array(a[32...])),
            .block(offset: Int64(32 + a.count), first: 3, records: 3, payload: Array(b[32...])),
        ]
        #expect(try scan(bytes).seen == expected)
        #expect(
            try scan(bytes, check: .inPlace).seen
                == expected.map {
                    guard case .block(let o, let f, let r, _) = $0 else { return $0 }
                    return .block(offset: o, first: f, records: r, payload: nil)
                }
        )
        #expect(try scan(header).seen.isEmpty)
    }

    @Test func tornTailIsOneDamagedRangeToTheEnd() throws {
        let bytes = header + a + b.dropLast(5)
        let end = Int64(bytes.count)
        let (seen, reasons) = try scan(bytes)
        #expect(seen == [.block(offset: 32, first: 1, records: 2, payload: Array(a[32...])), .damaged(Int64(32 + a.count)..<end)])
        #expect(reasons == ["block of \(b.count - 32) bytes runs past the end of the file (torn write)"])
        #expect(try scan(bytes, resync: false).seen == seen)
        // Fewer bytes left than a header.
        let short = header + a + Array(b[0..<10])
        #expect(try scan(short).reasons == ["10 bytes left, shorter than a block header"])
    }

    @Test func garbageBetweenTwoBlocksIsOneRangeAndTheScanResyncs() throws {
        // The garbage holds a block magic that begins no valid block, and a copy of a header without its payload.
        let garbage = Array(repeating: 0xAB, count: 37) + Array("WBLK".utf8) + Array(repeating: 0, count: 50) + Array(b[0..<32])
        let bytes = header + a + garbage + b
        let start = Int64(32 + a.count)
        let expected: [Seen] = [
            .block(offset: 32, first: 1, records: 2, payload: Array(a[32...])),
            .damaged(start..<(start + Int64(garbage.count))),
            .block(offset: start + Int64(garbage.count), first: 3, records: 3, payload: Array(b[32...])),
        ]
        let decoded = try scan(bytes)
        #expect(decoded.seen == expected)
        #expect(decoded.reasons == ["bad block magic"])
        #expect(
            try scan(bytes, check: .inPlace).seen.map { if case .damaged(let r) = $0 { r } else { nil } }.compactMap { $0 }
                == [start..<(start + Int64(garbage.count))]
        )
        // Without resync the scan stops at the damage.
        #expect(try scan(bytes, resync: false).seen == [expected[0], .damaged(start..<Int64(bytes.count))])
    }

    @Test func aBlockWithABadCRCIsDamageInBothChecks() throws {
        var bad = b
        bad[40] ^= 1
        let bytes = header + bad + a
        for check in [SegmentScanner.Check.decode, .inPlace] {
            let (seen, reasons) = try scan(bytes, check: check)
            #expect(seen.first == .damaged(32..<Int64(32 + bad.count)), "\(check)")
            #expect(reasons.count == 1 && reasons[0].hasPrefix("CRC32C mismatch"), "\(check)")
            #expect(seen.count == 2, "\(check)")
        }
    }

    @Test func headerLengthsRunningPastTheEndAreDamageToTheEnd() throws {
        var claims = a
        claims.replaceSubrange(8..<16, with: L.le32(1 << 20) + L.le32(1 << 20))
        let bytes = header + b + claims
        let from = Int64(32 + b.count)
        let (seen, reasons) = try scan(bytes)
        #expect(seen.last == .damaged(from..<Int64(bytes.count)))
        #expect(reasons == ["block of \(1 << 20) bytes runs past the end of the file (torn write)"])
        #expect(try scan(bytes, check: .inPlace).reasons == reasons)
        var scanner = SegmentScanner(file: try file(bytes), segment: 1, to: Int64(bytes.count))
        let stop = try scanner.forEachValidBlock { _, _ in }
        #expect(stop.end == from)
        #expect(stop.invalid == reasons[0])
    }
}
