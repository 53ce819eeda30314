import ArchiveStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import Whisper

/// The one writer of a ``PostgresStore``: it takes every batch queued while its last statement ran, and stores
/// them together (group commit), so that the database sees few large inserts instead of one per envelope.
///
/// Rows are deduplicated and sorted by key before they are sent: two nodes inserting overlapping batches then
/// take their key locks in the same order and wait for each other instead of deadlocking, and
/// `ON CONFLICT (id) DO NOTHING` makes the later one a no-op. Each statement commits on its own; a batch is
/// acknowledged in queue order once every statement holding its envelopes has committed.
final class PostgresWriter: Sendable {
    struct Job: Sendable {
        let envelopes: [Envelope]
        let pending: PendingAppend
    }

    private struct Queue {
        var jobs: [Job] = []
        var closed = false
    }

    /// Rows per statement (four array parameters each).
    static let rowsPerStatement = 2_000
    /// Envelope bytes per statement.
    static let bytesPerStatement = 8 << 20

    private let queue = NIOLockedValueBox(Queue())
    private let wake: AsyncStream<Void>.Continuation
    private let loop: Task<Void, Never>

    init(client: PostgresClient, timeout: Duration, logger: Logger, location: String) {
        let (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wake = wake
        let queue = self.queue
        loop = Task {
            func drain() async {
                while true {
                    let jobs = queue.withLockedValue { q -> [Job] in
                        defer { q.jobs.removeAll() }
                        return q.jobs
                    }
                    if jobs.isEmpty { return }
                    await Self.write(jobs, client: client, timeout: timeout, logger: logger, location: location)
                }
            }
            for await _ in signals { await drain() }
            await drain()
        }
    }

    /// Queues a batch; see ``PostgresStore/enqueue(_:arrivals:)``.
    func submit(_ envelopes: [Envelope]) -> PendingAppend {
        let pending = PendingAppend()
        if envelopes.isEmpty {
            pending.complete(.success(AppendResult()))
            return pending
        }
        let accepted = queue.withLockedValue { q -> Bool in
            guard !q.closed else { return false }
            q.jobs.append(Job(envelopes: envelopes, pending: pending))
            return true
        }
        if accepted {
            wake.yield()
        } else {
            pending.complete(.failure(ArchiveError(.closed, "the archive is closed")))
        }
        return pending
    }

    /// Stores what is queued, then stops.
    func close() async {
        queue.withLockedValue { $0.closed = true }
        wake.finish()
        await loop.value
    }

    /// Stores one group and acknowledges its jobs in order.
    private static func write(_ jobs: [Job], client: PostgresClient, timeout: Duration, logger: Logger, location: String) async {
        var rows: [(key: [UInt8], envelope: Envelope)] = []
        var seen = Set<[UInt8]>()
        for job in jobs {
            for e in job.envelopes {
                let key = e.key.bytes
                if seen.insert(key).inserted { rows.append((key, e)) }
            }
        }
        rows.sort { $0.key.lexicographicallyPrecedes($1.key) }

        var inserted = Set<[UInt8]>()
        var start = 0
        do {
            while start < rows.count {
                var end = start
                var bytes = 0
                while end < rows.count && end - start < rowsPerStatement
                    && (end == start || bytes + rows[end].envelope.rlp.count <= bytesPerStatement)
                {
                    bytes += rows[end].envelope.rlp.count
                    end += 1
                }
                let chunk = rows[start..<end]
                let query = PostgresQueries.insert(
                    ids: chunk.map { ByteBuffer(bytes: $0.key) },
                    data: chunk.map { ByteBuffer(bytes: $0.envelope.rlp) },
                    topics: chunk.map { ByteBuffer(bytes: $0.envelope.topic.bytes) },
                    blooms: chunk.map { BloomBits(bytes: $0.envelope.bloom.bytes) }
                )
                let ids = try await Deadline.run(timeout) { () async throws -> [[UInt8]] in
                    var out: [[UInt8]] = []
                    let result = try await client.query(query, logger: logger)
                    for try await id in result.decode(ByteBuffer.self) { out.append(Array(id.readableBytesView)) }
                    return out
                }
                inserted.formUnion(ids)
                start = end
            }
        } catch {
            let failure = PostgresErrorText.archiveError(error, while: "storing envelopes", location: location)
            logger.error("\(failure)")
            for job in jobs { job.pending.complete(.failure(failure)) }
            return
        }

        var counted = Set<[UInt8]>()
        for job in jobs {
            var result = AppendResult()
            for e in job.envelopes {
                let key = e.key.bytes
                if inserted.contains(key) && counted.insert(key).inserted {
                    result.added += 1
                    result.bytes += e.rlp.count
                } else {
                    result.duplicates += 1
                }
            }
            job.pending.complete(.success(result))
        }
    }
}
