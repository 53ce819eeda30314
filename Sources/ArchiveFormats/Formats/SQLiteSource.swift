import ArchiveStore
import Foundation
import Whisper

/// Reads status-go's `envelopes(id, data, topic, bloom)` table from a SQLite file, in key order.
public struct SQLiteSource: EnvelopeSource {
    private let path: String
    private let db: SQLiteDatabase
    private let statement: SQLiteStatement
    private var bytes: Int64 = 0

    /// Opens `path` read-only.
    public init(path: String) throws(FormatError) {
        guard FileManager.default.fileExists(atPath: path) else { throw FormatError(.missingFile, path: path, "no such file") }
        self.path = path
        do {
            db = try SQLiteDatabase(path: path, readOnly: true)
            statement = try db.prepare("SELECT id, data FROM envelopes ORDER BY id")
        } catch {
            throw FormatError(.unrecognised, path: path, "not a status-go envelopes database: \(error)")
        }
    }

    public var bytesRead: Int64 { bytes }

    public mutating func next() throws(FormatError) -> SourceItem? {
        let more: Bool
        do { more = try statement.step() } catch { throw FormatError(.io, path: path, "\(error)") }
        guard more else { return nil }
        let id = statement.blob(0)
        let data = statement.blob(1)
        bytes += Int64(id.count + data.count)
        let envelope: Envelope
        do { envelope = try Envelope(rlp: data) } catch {
            return .invalid(FormatError(.invalidRecord, path: path, key: id.hexString, error.description))
        }
        guard id == envelope.key.bytes else {
            return .invalid(FormatError(.invalidRecord, path: path, key: id.hexString,
                                        "id is not the envelope's 40-byte key \(envelope.key.bytes.hexString)"))
        }
        return .envelope(envelope, arrival: nil)
    }
}

extension Array where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var s = [UInt8]()
        s.reserveCapacity(count * 2)
        for b in self { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return String(decoding: s, as: UTF8.self)
    }
}
