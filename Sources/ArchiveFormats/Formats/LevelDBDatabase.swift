import CLevelDB
import Foundation

/// A LevelDB database opened through libleveldb's C API.
final class LevelDBDatabase: @unchecked Sendable {
    let path: String
    let handle: OpaquePointer
    private let options: OpaquePointer

    init(path: String, create: Bool) throws(FormatError) {
        self.path = path
        if !create {
            guard FileManager.default.fileExists(atPath: path + "/CURRENT") else {
                throw FormatError(.missingFile, path: path, "not a LevelDB directory (no CURRENT file)")
            }
        }
        options = leveldb_options_create()
        leveldb_options_set_create_if_missing(options, create ? 1 : 0)
        var err: UnsafeMutablePointer<CChar>?
        let db = leveldb_open(options, path, &err)
        if let err {
            let message = String(cString: err)
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
        if started { leveldb_iter_next(iterator) } else { leveldb_iter_seek_to_first(iterator); started = true }
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
        var kl = 0, vl = 0
        let k = leveldb_iter_key(iterator, &kl)!
        let v = leveldb_iter_value(iterator, &vl)!
        let key = k.withMemoryRebound(to: UInt8.self, capacity: kl) { Array(UnsafeBufferPointer(start: $0, count: kl)) }
        let value = v.withMemoryRebound(to: UInt8.self, capacity: vl) { Array(UnsafeBufferPointer(start: $0, count: vl)) }
        return (key, value)
    }
}
