import CLevelDB
import Foundation

/// A LevelDB database opened through libleveldb's C API.
///
/// libleveldb writes whenever it opens a database (a new MANIFEST and table, the log replayed and deleted, LOG
/// rotated), so a source is never opened where it lies: ``init(readingCopyOf:)`` opens a private copy.
final class LevelDBDatabase: @unchecked Sendable {
    /// The database as the user named it (for messages).
    let path: String
    let handle: OpaquePointer
    private let options: OpaquePointer
    /// The private copy that was opened instead of `path`, removed after the database is closed.
    private let copy: PrivateCopy?

    /// Opens (creating it if needed) the database directory `path` for writing.
    convenience init(creatingAt path: String) throws(FormatError) {
        try self.init(opening: path, as: path, create: true, copy: nil)
    }

    /// Opens a private copy of the database directory `source`, which is read and never written: its tables
    /// (immutable) are hard-linked or copied, CURRENT, the MANIFEST and the logs copied; LOCK and LOG are left out.
    convenience init(readingCopyOf source: String) throws(FormatError) {
        guard try FileProbe.kind(source) != nil else { throw FileProbe.error(source, errno: ENOENT) }
        guard try FileProbe.kind(source + "/CURRENT") == .regular else {
            throw FormatError(.unrecognised, path: source, headline: "not a LevelDB database (no CURRENT)")
        }
        let copy = try PrivateCopy(of: source, kind: "leveldb")
        for name in try FileProbe.names(inDirectory: source) {
            let file = source + "/" + name
            guard try FileProbe.kind(file) == .regular else { continue }
            if name.hasSuffix(".ldb") || name.hasSuffix(".sst") {
                try copy.link(file, as: name)
            } else if name == "CURRENT" || name.hasPrefix("MANIFEST-") || name.hasSuffix(".log") {
                try copy.copy(file, as: name)
            }
        }
        try self.init(opening: copy.directory, as: source, create: false, copy: copy)
    }

    private init(opening directory: String, as path: String, create: Bool, copy: PrivateCopy?) throws(FormatError) {
        self.path = path
        self.copy = copy
        options = leveldb_options_create()
        leveldb_options_set_create_if_missing(options, create ? 1 : 0)
        var err: UnsafeMutablePointer<CChar>?
        let db = leveldb_open(options, directory, &err)
        if let err {
            let message = String(cString: err).replacingOccurrences(of: directory, with: path)
            leveldb_free(err)
            leveldb_options_destroy(options)
            throw FormatError(.io, path: path, "cannot open the LevelDB database: \(message)")
        }
        handle = db!
    }

    deinit {
        leveldb_close(handle)
        leveldb_options_destroy(options)
    }

    /// Writes a batch of key/value pairs.
    func write(_ pairs: [([UInt8], [UInt8])]) throws(FormatError) {
        let batch = leveldb_writebatch_create()
        defer { leveldb_writebatch_destroy(batch) }
        for (k, v) in pairs {
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    kp.withMemoryRebound(to: CChar.self) { k2 in
                        vp.withMemoryRebound(to: CChar.self) { v2 in
                            leveldb_writebatch_put(batch, k2.baseAddress, k2.count, v2.baseAddress, v2.count)
                        }
                    }
                }
            }
        }
        let wo = leveldb_writeoptions_create()
        defer { leveldb_writeoptions_destroy(wo) }
        var err: UnsafeMutablePointer<CChar>?
        leveldb_write(handle, wo, batch, &err)
        if let err {
            let message = String(cString: err)
            leveldb_free(err)
            throw FormatError(.io, path: path, "LevelDB write failed: \(message)")
        }
    }
}

/// An iterator over all keys in order.
final class LevelDBIterator {
    let db: LevelDBDatabase
    private let readOptions: OpaquePointer
    private let iterator: OpaquePointer
    private var started = false

    init(_ db: LevelDBDatabase) {
        self.db = db
        readOptions = leveldb_readoptions_create()
        leveldb_readoptions_set_fill_cache(readOptions, 0)
        iterator = leveldb_create_iterator(db.handle, readOptions)
    }

    deinit {
        leveldb_iter_destroy(iterator)
        leveldb_readoptions_destroy(readOptions)
    }

    func next() throws(FormatError) -> (key: [UInt8], value: [UInt8])? {
        if started {
            leveldb_iter_next(iterator)
        } else {
            leveldb_iter_seek_to_first(iterator)
            started = true
        }
        guard leveldb_iter_valid(iterator) != 0 else {
            var err: UnsafeMutablePointer<CChar>?
            leveldb_iter_get_error(iterator, &err)
            if let err {
                let message = String(cString: err)
                leveldb_free(err)
                throw FormatError(.io, path: db.path, "LevelDB iteration failed: \(message)")
            }
            return nil
        }
        var kl = 0
        var vl = 0
        let k = leveldb_iter_key(iterator, &kl)!
        let v = leveldb_iter_value(iterator, &vl)!
        let key = k.withMemoryRebound(to: UInt8.self, capacity: kl) { Array(UnsafeBufferPointer(start: $0, count: kl)) }
        let value = v.withMemoryRebound(to: UInt8.self, capacity: vl) { Array(UnsafeBufferPointer(start: $0, count: vl)) }
        return (key, value)
    }
}
