import Foundation
internal import SQLite

/// Copies the index's write-ahead log into the database file on a thread and connection of its own.
///
/// SQLite's automatic checkpoint runs inside the committing connection: every thousand pages, the
/// writer thread would stop to write the log back and fsync both files. The writer's connection has
/// it turned off (`wal_autocheckpoint = 0`); this thread runs a passive checkpoint, which never
/// blocks the writer, every `interval` seconds or after `commitsPerCheckpoint` commits, whichever comes
/// first, and a restarting one (which does make the writer wait) when the log has grown past 64 MiB.
///
/// A page the writer changes again and again (the last leaf of each topic) is copied into the database
/// file once per checkpoint, so checkpoints far apart write fewer bytes: with 10 s instead of 1 s, a
/// durable ingest of 1M envelopes wrote 1.12–1.13 instead of 1.16–1.22 bytes per RLP byte.
final class IndexCheckpointer: ConditionThread, @unchecked Sendable {
    static let commitsPerCheckpoint = 100
    /// Log frames (pages) past which the log is restarted: 16384 pages of 4 KiB, 64 MiB.
    static let restartFrames = 16384

    private let path: String
    private let interval: TimeInterval
    private var commits = 0

    init(path: String, interval: TimeInterval) {
        self.path = path
        self.interval = interval
    }

    func start() { start(name: "whisper-archive.checkpoint") }

    /// Called by the writer after each commit.
    func noteCommit() {
        condition.lock()
        commits += 1
        if commits >= Self.commitsPerCheckpoint { condition.signal() }
        condition.unlock()
    }

    /// Checkpoints until stopped (the writer's connection checkpoints what is left when it closes).
    override func loop() {
        // A connection of its own; if it cannot be opened, the log is left to the writer's close.
        var db = try? SQLiteDatabase(path: path, readOnly: false, create: false)
        // A connection learns that the database is in WAL mode on its first read; until then a
        // checkpoint does nothing.
        if (try? db?.execute("PRAGMA journal_mode = WAL")) == nil { db = nil }
        condition.lock()
        while !stopping {
            if commits < Self.commitsPerCheckpoint {
                _ = condition.wait(until: Date(timeIntervalSinceNow: interval))
            }
            if stopping { break }
            // Also on the timer alone: maintenance commits (compaction, retention) do not call noteCommit.
            commits = 0
            condition.unlock()
            if let db {
                let logFrames = (try? db.checkpoint(.passive)) ?? -1
                // A writer that commits without pause keeps a passive checkpoint from ever catching up, and
                // the log only starts over once one has: past `restartFrames`, wait for the writer and restart it.
                if logFrames > Self.restartFrames {
                    _ = try? db.checkpoint(.restart)
                }
            }
            condition.lock()
        }
        condition.unlock()
    }
}
