import ArchiveFormats
import Foundation
import SQLite

/// The sqlite source (`SQLiteSource`: status-go's `envelopes` table, `import --format sqlite`).
///
/// Input: a control byte, then the rest.
/// - Control bit 0 clear: the rest is the database file itself (the seeds are `Samples/mail.sqlite` and mutations of
///   it), so SQLite's page reader and then the source see whatever the fuzzer made.
/// - Control bit 0 set: the rest is a list of rows that the harness inserts into a fresh database with status-go's
///   table, so the fuzzer reaches the source's own checks without SQLite's page checksums in the way. Each row is,
///   for `id` and then `data`: a type byte (low 2 bits: 0 blob, 1 text, 2 integer, 3 null) and a 2-byte
///   big-endian length, then that many bytes. Control bit 1 leaves the `data` column out of the table, bit 2 adds a
///   non-empty `-wal` beside the file (the source then reads a private copy).
public enum SQLiteFuzz {
    /// One input.
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let control = input.byte()
        let path = Scratch.root + "/input.sqlite"
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
        if control & 1 == 0 {
            _ = Scratch.file("input.sqlite", input.rest())
        } else if !build(path, rows: &input, withData: control & 2 == 0) {
            return
        }
        if control & 4 == 4 { _ = Scratch.file("input.sqlite-wal", [UInt8](repeating: 0x5A, count: 64)) }
        FormatsFuzz.drain(try? SQLiteSource(path: path))
    }

    private static func build(_ path: String, rows input: inout FuzzInput, withData: Bool) -> Bool {
        guard let db = try? SQLiteDatabase(path: path) else { return false }
        let columns = withData ? "id, data, topic, bloom" : "id, topic, bloom"
        guard (try? db.execute("PRAGMA synchronous = OFF; BEGIN; CREATE TABLE envelopes (\(columns))")) != nil,
            let insert = try? db.prepare(
                withData
                    ? "INSERT INTO envelopes (id, data) VALUES (?, ?)"
                    : "INSERT INTO envelopes (id) VALUES (?)"
            )
        else { return false }
        var rows = 0
        while !input.isEmpty, rows < 256 {
            insert.reset()
            for column in Int32(1)...(withData ? 2 : 1) {
                let type = input.byte() & 3
                let bytes = input.take(input.uint16())
                switch type {
                case 0: insert.bind(column, blob: bytes)
                case 1: insert.bind(column, text: String(decoding: bytes, as: UTF8.self))
                case 2: insert.bind(column, Int64(bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } & 0x7FFF_FFFF_FFFF_FFFF))
                default: insert.bindNull(column)
                }
            }
            guard (try? insert.run()) != nil else { break }
            rows += 1
        }
        return (try? db.execute("COMMIT")) != nil
    }
}
