import Foundation

/// A named thread that runs one loop, with a condition lock for its work queue and a stop handshake
/// (the base of the writer's threads, through ``QueueThread``, and of the index checkpoint thread).
class ConditionThread: @unchecked Sendable {
    /// Guards the subclass's state, `stopping` included.
    let condition = NSCondition()
    /// Set by ``stop()``; the loop returns once it sees it.
    var stopping = false
    private var stopped = false

    func start(name: String) {
        let t = Thread { [self] in
            loop()
            condition.lock()
            stopped = true
            condition.broadcast()
            condition.unlock()
        }
        t.name = name
        t.start()
    }

    /// The thread's work; returns (with `condition` unlocked) once `stopping` is set and the work is done.
    func loop() {}

    /// Asks the loop to finish and waits until it has.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        while !stopped { condition.wait() }
        condition.unlock()
    }
}
