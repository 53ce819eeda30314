import Foundation

/// A ``ConditionThread`` that works through a queue in batches: its loop takes everything queued at that moment,
/// works on it with the condition released (``process(_:)``), records the outcome with the condition held, and
/// wakes the waiters; once stopped, it drains the queue and then runs ``finish()``. The writer's three threads
/// (``ArchiveWriter``, ``BlockWriter``, ``SyncAcknowledger``) are built on it.
class QueueThread<Item>: ConditionThread, @unchecked Sendable {
    /// Items waiting for the loop (condition held).
    private(set) var queue: [Item] = []
    /// True while the loop works on a batch it took (condition held).
    private(set) var busy = false

    /// True when nothing waits and no batch is in work (condition held).
    final var isIdleLocked: Bool { queue.isEmpty && !busy }

    /// Queues `items` and wakes the loop (condition held).
    final func appendLocked(_ items: [Item]) {
        queue.append(contentsOf: items)
        condition.broadcast()
    }

    /// Queues `items` and wakes the loop; returns false, queuing nothing, once ``stop()`` was asked.
    final func enqueue(_ items: [Item]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        appendLocked(items)
        return true
    }

    /// Waits until everything queued so far has been worked on.
    final func waitUntilIdle() {
        condition.lock()
        while !isIdleLocked { condition.wait() }
        condition.unlock()
    }

    /// Waits for work with the condition held (the default: for a signal). It may return without any, after a
    /// timeout or work of its own; the loop then asks again.
    func waitForWork() { condition.wait() }

    /// Works on a batch, with the condition released; returns what to record once it is held again, before the
    /// waiters wake.
    func process(_ batch: [Item]) -> () -> Void { {} }

    /// Runs once the queue is drained after ``stop()``, with the condition released, before `stop` returns.
    func finish() {}

    override final func loop() {
        condition.lock()
        while true {
            while queue.isEmpty && !stopping { waitForWork() }
            if queue.isEmpty { break }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            busy = true
            condition.unlock()
            let record = process(batch)
            condition.lock()
            record()
            busy = false
            condition.broadcast()
        }
        condition.unlock()
        finish()
    }
}
