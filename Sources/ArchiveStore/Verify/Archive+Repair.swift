import Foundation
import Logging
import SystemErrorText
import Whisper

/// One change `verify --repair` made.
public struct RepairAction: Sendable, Codable, Hashable, CustomStringConvertible {
    /// What was done, for example `quarantined`, `rewrote-segment`, `manifest`, `rebuilt-index`.
    public var kind: String
    /// The file concerned, relative to the archive directory.
    public var file: String
    /// First byte of the range concerned.
    public var start: Int64?
    /// One past the last byte of the range concerned.
    public var end: Int64?
    /// In words.
    public var detail: String

    public var description: String {
        "\(kind): \(file)" + (start.map { s in " bytes \(s)..<\(end ?? s)" } ?? "") + ": \(detail)"
    }
}

extension Archive {
    /// Repairs an archive: damaged bytes go to `quarantine/`, segments are rewritten from their valid blocks, the
    /// manifest is rebuilt from the segment files, and the index is rebuilt from the segments.
    ///
    /// It works like compaction: every segment is read first, and nothing is written unless all of them could be
    /// read. The new segments and quarantine files are written beside the old ones under temporary names, and the
    /// new manifest, which lists the renames still to do, is the commit point: a crash before it leaves the old
    /// archive (the temporary files are removed by the next writer open), and a crash after it leaves the new
    /// one (the next writer open finishes the renames). Never drops a record of a valid block. Takes the writer
    /// lock, so no server may run on the archive.
    /// - Returns: every change made, in order.
    public static func repair(directory: String, configuration: ArchiveConfiguration = ArchiveConfiguration()) throws(ArchiveError) -> [RepairAction]
    {
        let found = ArchiveDirectory.inspect(directory)
        guard found == .archive || FileManager.default.fileExists(atPath: directory + "/segments") else {
            throw ArchiveError(.io, notAnArchive(directory), path: directory)
        }
        var lock: ArchiveLock? = try ArchiveLock(directory: directory)
        let segDir = directory + "/segments"
        let old: Manifest?
        do throws(ArchiveError) { old = try Manifest.load(directory: directory) } catch  where error.code == .corrupt { old = nil }
        if let old, old.pending != nil {
            // A repair that reached its commit point: finish it first, then look again.
            var m = old
            try completePendingRenames(directory: directory, manifest: &m, logger: configuration.logger)
            lock = nil
            return try repair(directory: directory, configuration: configuration)
        }

        // 1. Read every segment; an unreadable one stops the repair before anything is written.
        // Unlisted files below the floor are compaction leftovers, except those after every listed segment: a stale
        // manifest (an old copy) did not know them, and they are kept.
        let listed = Set(old?.segments.map(\.firstSequence) ?? [])
        let listedEnd = old?.segments.map { $0.firstSequence + UInt64($0.records) }.max() ?? 0
        let files = try listSegments(segDir).filter { f in old.map { listed.contains(f) || f >= min($0.activeFloor, listedEnd) } ?? true }
        var actions: [RepairAction] = []
        for s in old?.segments ?? [] where !files.contains(s.firstSequence) {
            actions.append(
                .init(
                    kind: "manifest",
                    file: "segments/" + s.fileName,
                    detail: "removed the missing segment from the manifest (\(s.records) records lost)"
                )
            )
        }
        var plans: [SegmentRepairPlan] = []
        for (i, first) in files.enumerated() {
            let next = i + 1 < files.count ? files[i + 1] : nil
            plans.append(try SegmentRepairPlan(segDir: segDir, first: first, next: next, sealed: next != nil))
        }

        // 2. Write the new segments and the quarantined bytes under temporary names.
        var renames: [Manifest.Rename] = []
        var temporary: [String] = []
        do throws(ArchiveError) {
            for plan in plans where plan.needsRewrite {
                let rel = "segments/" + SegmentFormat.segmentFileName(firstSequence: plan.first)
                if !plan.damaged.isEmpty { try FileManager.default.createDirectoryIfMissing(directory + "/quarantine") }
                for (range, why) in plan.damaged {
                    let name = "quarantine/\(SegmentFormat.segmentFileName(firstSequence: plan.first)).\(range.lowerBound)-\(range.upperBound).bin"
                    temporary.append(name + repairSuffix)
                    try plan.copyDamage(range, to: directory + "/" + name + repairSuffix)
                    renames.append(.init(from: name + repairSuffix, to: name))
                    actions.append(
                        .init(
                            kind: "quarantined",
                            file: rel,
                            start: range.lowerBound,
                            end: range.upperBound,
                            detail: "moved \(range.count) damaged bytes to \(name) (\(why))"
                        )
                    )
                }
                let target = "segments/" + SegmentFormat.segmentFileName(firstSequence: plan.newFirst)
                temporary.append(target + repairSuffix)
                let bytes = try plan.writeRewrite(to: directory + "/" + target + repairSuffix)
                renames.append(.init(from: target + repairSuffix, to: target))
                actions.append(
                    .init(
                        kind: "rewrote-segment",
                        file: rel,
                        start: 0,
                        end: plan.size,
                        detail: "kept \(plan.blocks.count) valid blocks (\(plan.info.records) records), \(bytes) bytes"
                            + (plan.newFirst == plan.first ? "" : " as \(target)") + (plan.headerOK ? "" : "; wrote a new segment header")
                    )
                )
            }
            try SegmentFile.syncDirectory(segDir)
            if FileManager.default.fileExists(atPath: directory + "/quarantine") { try SegmentFile.syncDirectory(directory + "/quarantine") }
        } catch {
            for t in temporary { unlink(directory + "/" + t) }
            throw error
        }

        // 3. The commit point: the new manifest, with the renames and removals still to do.
        let infos = plans.map(\.info)
        let replaced = plans.filter { $0.needsRewrite && $0.newFirst != $0.first }.map {
            "segments/" + SegmentFormat.segmentFileName(firstSequence: $0.first)
        }
        var manifest = Manifest(
            format: SegmentFormat.version,
            segments: infos.filter(\.sealed),
            nextSequence: infos.last.map { $0.sealed ? $0.firstSequence + UInt64($0.records) : $0.firstSequence } ?? old?.nextSequence ?? 1,
            generation: (old?.generation ?? 0) + 1
        )
        manifest.pending = Manifest.Pending(renames: renames, removals: replaced)
        let oldList = old?.segments.map { "\($0.firstSequence):\($0.bytes)" } ?? []
        if manifest.segments.map({ "\($0.firstSequence):\($0.bytes)" }) != oldList || old == nil {
            actions.append(
                .init(
                    kind: "manifest",
                    file: Manifest.fileName,
                    detail: "rewrote the manifest from the segment files (\(manifest.segments.count) sealed segments)"
                )
            )
        }
        try manifest.store(directory: directory)

        // 4. Finish: renames, removals, and a damaged index moved aside; the writer open rebuilds the index.
        try completePendingRenames(directory: directory, manifest: &manifest, logger: configuration.logger)
        if let aside = try moveDamagedIndexAside(directory: directory) {
            actions.append(.init(kind: "moved-index", file: ArchiveIndex.fileName, detail: "the index could not be read; moved it to \(aside)"))
        }
        lock = nil
        _ = lock
        var c = configuration
        c.mode = .writer
        c.createIfMissing = false
        let archive = try Archive(directory: directory, configuration: c)
        let count = try archive.count()
        archive.close()
        actions.append(.init(kind: "rebuilt-index", file: ArchiveIndex.fileName, detail: "rebuilt the index from the segments: \(count) envelopes"))
        return actions
    }

    /// Suffix of a file repair writes before its commit point (never read; removed when the commit did not happen).
    static let repairSuffix = ".repair"

    /// Does the renames and removals a committed repair listed, then stores the manifest without them.
    /// Idempotent: a rename whose source is gone was done.
    static func completePendingRenames(directory: String, manifest: inout Manifest, logger: Logger) throws(ArchiveError) {
        guard let pending = manifest.pending else { return }
        for r in pending.renames where FileManager.default.fileExists(atPath: directory + "/" + r.from) {
            guard rename(directory + "/" + r.from, directory + "/" + r.to) == 0 else {
                throw ArchiveError(
                    .io,
                    "cannot finish a repair: rename to \(r.to) failed: \(String(cString: strerror(errno)))",
                    path: directory + "/" + r.from,
                    errno: errno
                )
            }
        }
        for f in pending.removals { unlink(directory + "/" + f) }
        try SegmentFile.syncDirectory(directory + "/segments")
        if FileManager.default.fileExists(atPath: directory + "/quarantine") { try SegmentFile.syncDirectory(directory + "/quarantine") }
        manifest.pending = nil
        try manifest.store(directory: directory)
        logger.notice("finished the renames of a committed repair (\(pending.renames.count) files)")
    }

    /// Removes what a repair wrote before a commit that never came: `*.repair` files in `segments/` and `quarantine/`.
    static func removeRepairLeftovers(directory: String, logger: Logger, report: inout RecoveryReport) {
        for sub in ["segments", "quarantine"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory + "/" + sub)) ?? [] where name.hasSuffix(repairSuffix) {
                logger.warning("removing \(sub)/\(name): written by a repair that did not finish")
                unlink(directory + "/" + sub + "/" + name)
                report.leftoversRemoved.append(name)
            }
        }
    }

    /// Moves an index that cannot be read as an index aside (`index.sqlite.bad-<time>`), so that a writer rebuilds it
    /// from the segments. Needs the writer not to run (as repair and reindex do).
    /// - Returns: the new name, or nil when the index was readable or absent.
    public static func moveDamagedIndexAside(directory: String) throws(ArchiveError) -> String? {
        let path = directory + "/" + ArchiveIndex.fileName
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do throws(ArchiveError) {
            let index = try ArchiveIndex(path: path, readOnly: true, immutable: true)
            if try index.quickCheck().isEmpty { return nil }
        } catch  where error.code == .unsupportedVersion {
            return nil  // another schema: a writer drops and rebuilds it
        } catch {}
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let aside = ArchiveIndex.fileName + ".bad-" + stamp
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            guard rename(path + suffix, directory + "/" + aside + suffix) == 0 else {
                throw ArchiveError(.io, "cannot move the damaged index aside: \(String(cString: strerror(errno)))", path: path + suffix, errno: errno)
            }
        }
        try SegmentFile.syncDirectory(directory)
        return aside
    }
}

/// What repair found in one segment file, read whole before anything is written, and how it rewrites it.
struct SegmentRepairPlan {
    let first: UInt64
    let path: String
    let file: SegmentFile
    let size: Int64
    let headerOK: Bool
    let info: SegmentInfo
    let blocks: [BlockInfo]
    let damaged: [(Range<Int64>, String)]
    let contiguous: Bool
    /// The first sequence number of the rewritten file: the kept records end where the old range ended, so a
    /// segment that lost records gets a new name (and the old file stays untouched until the commit).
    var newFirst: UInt64

    var needsRewrite: Bool { !damaged.isEmpty || !headerOK || !contiguous }

    init(segDir: String, first: UInt64, next: UInt64?, sealed: Bool) throws(ArchiveError) {
        self.first = first
        path = segDir + "/" + SegmentFormat.segmentFileName(firstSequence: first)
        file = try SegmentFile(path: path, writable: false)
        size = try file.size()
        // Every byte must be readable: an I/O error is not damage to quarantine, and stops the repair.
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var at: Int64 = 0
        while at < size {
            let n = try file.read(into: &chunk, at: at)
            guard n > 0 else {
                throw ArchiveError(
                    .io,
                    "cannot read the whole segment (it ends at \(at) of \(size) bytes); repair changed nothing",
                    path: path,
                    offset: at
                )
            }
            at += Int64(n)
        }
        let read = try SegmentHeader.read(from: file, first: first)
        let header = try? read.get()
        headerOK = header != nil
        let created = header?.created ?? UInt32(Date().timeIntervalSince1970)
        var info = SegmentInfo(
            firstSequence: first,
            bytes: Int64(SegmentHeader.length),
            blocks: 0,
            records: 0,
            created: created,
            sealed: sealed
        )
        var blocks: [BlockInfo] = []
        var damaged: [(Range<Int64>, String)] = []
        var contiguous = true
        var expected = first
        var validEnd = first
        var scanner = SegmentScanner(file: file, segment: first, to: size)
        while let item = scanner.next() {
            switch item {
            case .damaged(let range, let why):
                damaged.append((range, why))
            case .block(let b, let raw):
                if b.firstSequence != expected { contiguous = false }
                expected = b.firstSequence + UInt64(b.recordCount)
                validEnd = max(validEnd, expected)
                blocks.append(b)
                info.add(records: raw ?? [])
                info.blocks += 1
                info.bytes += Int64(b.length)
            }
        }
        let kept = UInt64(info.records)
        // Where the kept records end: the next segment's first sequence, or the end of the last valid block.
        let end = next ?? validEnd
        newFirst = damaged.isEmpty || end < first + kept ? first : end - kept
        info.firstSequence = newFirst
        self.info = info
        self.blocks = blocks
        self.damaged = damaged
        self.contiguous = contiguous
    }

    /// Copies damaged bytes out, to a new file.
    func copyDamage(_ range: Range<Int64>, to path: String) throws(ArchiveError) {
        var bytes = [UInt8](repeating: 0, count: Int(range.count))
        _ = try file.read(into: &bytes, at: range.lowerBound)
        unlink(path)
        let q = try SegmentFile(path: path, writable: true, create: true)
        try q.write(bytes, at: 0)
        try q.sync()
    }

    /// Writes a fresh header and the valid blocks, renumbered from ``newFirst``, to a new file; returns its size.
    func writeRewrite(to path: String) throws(ArchiveError) -> Int64 {
        unlink(path)
        let out = try SegmentFile(path: path, writable: true, create: true)
        try out.write(SegmentHeader(firstSequence: newFirst, created: info.created).encoded(), at: 0)
        var at = Int64(SegmentHeader.length)
        var sequence = newFirst
        for b in blocks {
            var bytes = [UInt8](repeating: 0, count: b.length)
            _ = try file.read(into: &bytes, at: b.offset)
            BlockHeader.renumber(block: &bytes, firstSequence: sequence)
            try out.write(bytes, at: at)
            at += Int64(b.length)
            sequence += UInt64(b.recordCount)
        }
        try out.sync()
        return at
    }
}

extension FileManager {
    func createDirectoryIfMissing(_ path: String) throws(ArchiveError) {
        do { try createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw ArchiveError(.io, "cannot create \(path): \(SystemErrorText.words(error))", path: path)
        }
    }
}
