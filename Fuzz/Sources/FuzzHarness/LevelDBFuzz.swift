import ArchiveFormats
import CLevelDBFuzz
import Foundation

/// The LevelDB source (`LevelDBSource`: status-go's and go-ethereum's mailserver databases,
/// `import --format leveldb`), on a real database that the harness writes with libleveldb.
///
/// LevelDB's own file formats are checksummed and fuzzed upstream (OSS-Fuzz); what is ours is what the source does
/// with the keys and values it gets. So the input is a list of pairs that the harness puts into a fresh database,
/// each a 2-byte big-endian key length, the key, a 2-byte value length and the value; then the source reads the
/// database (through its private copy, as `import` does).
public enum LevelDBFuzz {
    /// One input.
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        var pairs: [([UInt8], [UInt8])] = []
        while !input.isEmpty, pairs.count < 256 {
            let key = input.take(input.uint16())
            pairs.append((key, input.take(input.uint16())))
        }
        let path = Scratch.root + "/leveldb"
        try? FileManager.default.removeItem(atPath: path)
        guard write(pairs, to: path) else { return }
        FormatsFuzz.drain(try? LevelDBSource(path: path))
    }

    private static func write(_ pairs: [([UInt8], [UInt8])], to path: String) -> Bool {
        let options = leveldb_options_create()
        defer { leveldb_options_destroy(options) }
        leveldb_options_set_create_if_missing(options, 1)
        var error: UnsafeMutablePointer<CChar>?
        guard let db = leveldb_open(options, path, &error) else {
            if let error { leveldb_free(error) }
            return false
        }
        defer { leveldb_close(db) }
        let writeOptions = leveldb_writeoptions_create()
        defer { leveldb_writeoptions_destroy(writeOptions) }
        for (key, value) in pairs {
            key.withUnsafeBytes { k in
                value.withUnsafeBytes { v in
                    leveldb_put(
                        db,
                        writeOptions,
                        k.baseAddress?.assumingMemoryBound(to: CChar.self),
                        k.count,
                        v.baseAddress?.assumingMemoryBound(to: CChar.self),
                        v.count,
                        &error
                    )
                }
            }
            if let e = error {
                leveldb_free(e)
                return false
            }
        }
        return true
    }
}
