import EthCrypto
import Foundation
internal import SQLite
import Whisper

/// Reads status-go's `envelopes(id, data, topic, bloom)` table from a SQLite file, in key order.
///
/// The file is never written: it is opened read-only and immutable, so no `-wal`, `-shm` or `-journal` appears
/// beside it. A database whose rows are not all in the file itself (a non-empty `-wal` holding committed
/// transactions, or a `-journal` left by a crash that must be rolled back) is copied with that file into a private
/// temporary directory, and the copy is read instead.
public struct SQLiteSource: EnvelopeSource {
    private let path: String
    private let db: SQLiteDatabase
    private let statement: SQLiteStatement
    private let copy: PrivateCopy?
    private var bytes: Int64 = 0

    /// Opens `path` for reading.
    public init(path: String) throws(FormatError) {
        self.path = path
        switch try FileProbe.kind(path) {
        case nil: throw FileProbe.error(path, errno: ENOENT)
        case .directory?: throw FormatError(.unrecognised, path: path, headline: "not a SQLite database", "a directory")
        case .regular?, .special?: break
        }
        let fd = try FileProbe.openForReading(path)
        var head = [UInt8](repeating: 0, count: 16)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        close(fd)
        guard n == 16, head == Array("SQLite format 3".utf8) + [0] else {
            throw FormatError(.unrecognised, path: path, headline: "not a SQLite database")
        }
        let wal = try FileProbe.size(path + "-wal") ?? 0
        let journal = try FileProbe.size(path + "-journal") ?? 0
        var copy: PrivateCopy?
        if wal > 0 || journal > 0 {
            let c = try PrivateCopy(of: path, kind: "sqlite")
            try c.copy(path, as: "db.sqlite")
            if wal > 0 { try c.copy(path + "-wal", as: "db.sqlite-wal") }
            if journal > 0 { try c.copy(path + "-journal", as: "db.sqlite-journal") }
            copy = c
        }
        self.copy = copy
        do {
            // A copy is ours: opened read-write, SQLite replays its WAL or rolls its journal back there.
            if let copy {
                db = try SQLiteDatabase(path: copy.directory + "/db.sqlite", create: false)
            } else {
                db = try SQLiteDatabase(path: path, readOnly: true, immutable: true)
            }
            statement = try db.prepare("SELECT id, data FROM envelopes ORDER BY id")
        } catch {
            let message = copy.map { error.message.replacingOccurrences(of: $0.directory + "/db.sqlite", with: path) } ?? error.message
            throw FormatError(.unrecognised, path: path, headline: "not a status-go envelopes database", message)
        }
    }
    public var bytesRead: Int64 { bytes }

    public mutating func next() throws(FormatError) -> SourceItem? {
        let more: Bool
        do { more = try statement.step() } catch { throw FormatError(error, path: path) }
        guard more else { return nil }
        let id = statement.blob(0)
        let data = statement.blob(1)
        bytes += Int64(id.count + data.count)
        let envelope: Envelope
        do { envelope = try Envelope(rlp: data) } catch {
            return .invalid(FormatError(.invalidRecord, path: path, key: id.hex, error.description))
        }
        guard id == envelope.key.bytes else {
            return .invalid(
                FormatError(
                    .invalidRecord,
                    path: path,
                    key: id.hex,
                    "id is not the envelope's 40-byte key \(envelope.key.bytes.hex)"
                )
            )
        }
        return .envelope(envelope, arrival: nil)
    }
}
