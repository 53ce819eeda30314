import Foundation

/// The external formats `import` and `export` understand.
public enum ArchiveFormat: String, CaseIterable, Sendable {
    /// Concatenated envelope RLPs (or one RLP list of envelopes).
    case rlp
    /// One JSON object per line, with the keys of `inspect --json`.
    case jsonl
    /// status-go's `envelopes` table in a SQLite file.
    case sqlite
    /// A status-go or go-ethereum mailserver LevelDB directory.
    case leveldb
    /// Another whisper-archive directory.
    case archive
    /// A PostgreSQL database in status-go's schema, named by a `postgres://` URL. It is a store, not a file: the
    /// importer reads it through ``Importer/openStore`` and the exporter writes it through ``Importer/copy(from:filter:)``.
    case postgres

    /// True for a database reached through the store API rather than read or written as a file.
    public var isStore: Bool { self == .postgres }

    /// True for formats that are a byte stream (and so may be LZ4-compressed).
    public var isStream: Bool { self == .rlp || self == .jsonl }

    /// Guesses the format of an existing path: directory contents, file extension, then the first bytes.
    public static func detect(path: String) throws(FormatError) -> ArchiveFormat {
        if path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") { return .postgres }
        guard let kind = try FileProbe.kind(path) else { throw FileProbe.error(path, errno: ENOENT) }
        if kind == .directory {
            if try FileProbe.kind(path + "/MANIFEST") != nil { return .archive }
            if try FileProbe.kind(path + "/CURRENT") != nil { return .leveldb }
            throw FormatError(.unrecognised, path: path, "a directory that is neither a whisper-archive (MANIFEST) nor a LevelDB (CURRENT)")
        }
        if let f = guess(fromName: path) { return f }
        let input = try ByteInput(path: path)
        let head = try input.read(max: 64)
        if head.starts(with: Array("SQLite format 3".utf8)) { return .sqlite }
        if let first = head.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }), first == UInt8(ascii: "{") { return .jsonl }
        if let first = head.first, first >= 0xC0 { return .rlp }
        throw FormatError(.unrecognised, path: path, "cannot tell the format from the name or the first bytes; pass --format")
    }

    /// The format named by a file extension (`.rlp`, `.jsonl`, `.sqlite`, … with an optional `.lz4`).
    public static func guess(fromName path: String) -> ArchiveFormat? {
        var name = path.lowercased()
        if name.hasSuffix(".lz4") { name.removeLast(4) }
        if name.hasSuffix(".rlp") { return .rlp }
        if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") || name.hasSuffix(".json") { return .jsonl }
        if name.hasSuffix(".sqlite") || name.hasSuffix(".sqlite3") || name.hasSuffix(".db") { return .sqlite }
        if name.hasSuffix(".leveldb") || name.hasSuffix(".ldb") { return .leveldb }
        return nil
    }

    /// A reader for `path` in this format.
    public func source(path: String) throws(FormatError) -> any EnvelopeSource {
        if !isStream && path.hasSuffix(".lz4") { throw FormatError(.unsupported, path: path, "only rlp and jsonl streams can be LZ4-compressed") }
        switch self {
        case .rlp: return try RLPStreamSource(path: path)
        case .jsonl: return try JSONLSource(path: path)
        case .sqlite: return try SQLiteSource(path: path)
        case .leveldb: return try LevelDBSource(path: path)
        case .archive: return try ArchiveSource(path: path)
        case .postgres: throw FormatError(.unsupported, path: path, "a PostgreSQL database is read as a store, not as a file")
        }
    }

    /// A writer for `path` in this format (see ``OutputFile`` for how a file output is written); an existing
    /// rlp, jsonl or sqlite file is replaced only when `replacing` is true.
    public func sink(path: String, replacing: Bool = false) throws(FormatError) -> any EnvelopeSink {
        if !isStream && path.hasSuffix(".lz4") { throw FormatError(.unsupported, path: path, "only rlp and jsonl streams can be LZ4-compressed") }
        if !isStream && path == "-" { throw FormatError(.unsupported, path: path, "only rlp and jsonl can be written to standard output") }
        switch self {
        case .rlp: return try RLPStreamSink(path: path, replacing: replacing)
        case .jsonl: return try JSONLSink(path: path, replacing: replacing)
        case .sqlite: return try SQLiteSink(path: path, replacing: replacing)
        case .leveldb: return try LevelDBSink(path: path)
        case .archive: return try ArchiveSink(path: path)
        case .postgres: throw FormatError(.unsupported, path: path, "a PostgreSQL database is written as a store, not as a file")
        }
    }
}
