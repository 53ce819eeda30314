import ArchiveStore
import Foundation
import Logging

/// The store on a fuzzed segment file inside a real archive directory: `verify --full`, a reader's open and scan,
/// and a writer's open-time recovery followed by a scan.
///
/// Input: a control byte, then the bytes of segment `00000000000000000001.seg`. Control bit 0 has the harness
/// rewrite the segment header's CRC32C and walk the blocks by their stored lengths rewriting each block's
/// CRC32C, so the fuzzer gets past the checksums to the lengths, codecs, LZ4 payloads and records; bit 1 also
/// stamps each block's magic. Bit 2 adds the sample archive's index (whose rows then may not match).
public enum StoreSegmentFuzz {
    /// One input.
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let control = input.byte()
        var segment = input.rest()
        if control & 1 == 1 { StoreFuzz.fixChecksums(&segment, stampMagic: control & 2 == 2) }
        let dir = Scratch.folder("archive")
        StoreFuzz.write(dir + "/MANIFEST", StoreFuzz.manifest)
        StoreFuzz.write(dir + "/segments/00000000000000000001.seg", segment)
        if control & 4 == 4 { StoreFuzz.write(dir + "/index.sqlite", StoreFuzz.index) }
        StoreFuzz.exercise(dir)
    }
}

/// The manifest parser, through the same opens as ``StoreSegmentFuzz``, over the sample archive's segment.
public enum StoreManifestFuzz {
    /// One input: the whole input is the MANIFEST file.
    public static func run(_ data: UnsafeRawBufferPointer) {
        let dir = Scratch.folder("archive")
        StoreFuzz.write(dir + "/MANIFEST", [UInt8](data))
        StoreFuzz.write(dir + "/segments/00000000000000000001.seg", StoreFuzz.segment)
        StoreFuzz.exercise(dir)
    }
}

enum StoreFuzz {
    static let manifest = Scratch.sample("mail-archive/MANIFEST")
    static let segment = Scratch.sample("mail-archive/segments/00000000000000000001.seg")
    static let index = Scratch.sample("mail-archive/index.sqlite")

    static func write(_ path: String, _ bytes: [UInt8]) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { preconditionFailure("cannot write \(path)") }
    }

    static func configuration(_ base: ArchiveConfiguration) -> ArchiveConfiguration {
        var c = base
        c.sync = .none
        c.createIfMissing = false
        c.logger.logLevel = .critical
        c.indexCheckpointSeconds = 3600
        return c
    }

    /// Verify (which must only report), then a reader's scan, then a writer's recovery and scan.
    static func exercise(_ dir: String) {
        _ = try? Archive.verify(directory: dir, full: true)
        for base in [ArchiveConfiguration.reader, ArchiveConfiguration()] {
            guard let archive = try? Archive(directory: dir, configuration: configuration(base)) else { continue }
            if var records = try? archive.records() {
                var n = 0
                while n < 100_000, (try? records.next()) != nil { n += 1 }
            }
            _ = try? archive.count()
            _ = try? archive.segments()
            archive.close()
        }
    }

    /// Rewrites the segment header's CRC32C and each block's, walking blocks by their stored length.
    static func fixChecksums(_ s: inout [UInt8], stampMagic: Bool) {
        guard s.count >= 32 else { return }
        put(&s, 28, CRC32C.checksum(s[0..<28]))
        var offset = 32
        while s.count - offset >= 32 {
            if stampMagic { s.replaceSubrange(offset..<(offset + 4), with: Array("WBLK".utf8)) }
            let stored = Int(s[offset + 8]) | Int(s[offset + 9]) << 8 | Int(s[offset + 10]) << 16 | Int(s[offset + 11]) << 24
            guard stored <= s.count - offset - 32 else { return }
            put(&s, offset + 4, CRC32C.checksum(s[(offset + 8)..<(offset + 32 + stored)]))
            offset += 32 + stored
        }
    }

    static func put(_ s: inout [UInt8], _ at: Int, _ v: UInt32) {
        for i in 0..<4 { s[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
}
