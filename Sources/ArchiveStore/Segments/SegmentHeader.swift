/// The 32-byte header at the start of every segment file, field for field as the table "Segment header (32 bytes)"
/// of docs/FORMAT.md lays it out:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic `WHARCSEG` |
/// | 8 | 4 | format version (1) |
/// | 12 | 4 | header length (32) |
/// | 16 | 8 | first sequence number (equals the file name) |
/// | 24 | 4 | created, Unix seconds |
/// | 28 | 4 | CRC32C of bytes 0..27 |
///
/// Parsing treats the bytes as untrusted; only this type knows where a field lies.
struct SegmentHeader: Hashable, Sendable {
    /// Bytes in a segment header; the first block starts at this offset.
    static let length = 32
    /// The magic at offset 0: `WHARCSEG`.
    static let magic: [UInt8] = Array("WHARCSEG".utf8)

    /// Format version (offset 8); 1 for every segment this code writes.
    var formatVersion: UInt32
    /// Header length (offset 12); 32. Not checked when parsing (the CRC32C covers it).
    var headerLength: UInt32
    /// First sequence number (offset 16); equals the number in the file name.
    var firstSequence: UInt64
    /// Created, Unix seconds (offset 24).
    var created: UInt32

    /// A header of the current format version.
    init(firstSequence: UInt64, created: UInt32) {
        formatVersion = SegmentFormat.version
        headerLength = UInt32(Self.length)
        self.firstSequence = firstSequence
        self.created = created
    }

    /// Why bytes are not the header of the segment file they were read from.
    enum Rejection: Error, Hashable {
        /// Fewer than 32 bytes, or not the magic: a header that never reached the disk, when the file is no longer
        /// than a header. `created` is the field at offset 24 when 32 bytes were there.
        case incomplete(created: UInt32?)
        /// The first sequence number is not the file name's, or the CRC32C does not match.
        case mismatch
        /// A format version this code does not read.
        case unsupportedVersion(UInt32)

        /// The error a writer's open reports for this header of `path` (segment `segment`).
        func error(path: String, segment: UInt64) -> ArchiveError {
            switch self {
            case .incomplete:
                ArchiveError(.corrupt, "segment header is not valid", path: path, segment: segment, offset: 0)
            case .mismatch:
                ArchiveError(.corrupt, "segment header does not match its file name or checksum", path: path, segment: segment, offset: 0)
            case .unsupportedVersion(let version):
                ArchiveError(.unsupportedVersion, "segment format \(version) is not supported", path: path, segment: segment)
            }
        }
    }

    /// Parses the first bytes of the segment file named by `fileFirstSequence`. Checks, in this order: length and
    /// magic, then first sequence number and CRC32C, then format version.
    init(parsing bytes: [UInt8], fileFirstSequence: UInt64) throws(Rejection) {
        guard bytes.count >= Self.length, bytes[0..<8].elementsEqual(Self.magic) else {
            throw .incomplete(created: bytes.count >= Self.length ? bytes.u32LE(24) : nil)
        }
        guard bytes.u64LE(16) == fileFirstSequence, CRC32C.checksum(bytes[0..<28]) == bytes.u32LE(28) else { throw .mismatch }
        guard bytes.u32LE(8) == SegmentFormat.version else { throw .unsupportedVersion(bytes.u32LE(8)) }
        formatVersion = bytes.u32LE(8)
        headerLength = bytes.u32LE(12)
        firstSequence = bytes.u64LE(16)
        created = bytes.u32LE(24)
    }

    /// Reads and parses the header of `file`, whose name says `first`.
    /// - Returns: the header, or why the bytes are not one.
    /// - Throws: ``ArchiveError`` when the file cannot be read.
    static func read(from file: SegmentFile, first: UInt64) throws(ArchiveError) -> Result<SegmentHeader, Rejection> {
        var bytes = [UInt8](repeating: 0, count: length)
        let n = try file.read(into: &bytes, at: 0)
        do throws(Rejection) {
            return .success(try SegmentHeader(parsing: Array(bytes[0..<n]), fileFirstSequence: first))
        } catch {
            return .failure(error)
        }
    }

    /// The 32 bytes, ending with their CRC32C.
    func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(Self.length)
        bytes.appendLE(formatVersion)
        bytes.appendLE(headerLength)
        bytes.appendLE(firstSequence)
        bytes.appendLE(created)
        bytes.appendLE(CRC32C.checksum(bytes))
        return bytes
    }
}
