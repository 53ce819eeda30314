import Dispatch
import Foundation
import Logging

/// SIGTERM and SIGINT for `serve`: the first starts the graceful stop (`begin`) and a deadline; a second signal,
/// or the deadline, exits the process at once with status 1.
///
/// The signals are ignored by default from the moment this exists and delivered through dispatch sources, so that
/// one arriving while the services start is not lost. (Unchecked: the sources are set once, and cancelling one is
/// thread-safe.)
final class StopSignals: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(timeout: Double, logger: Logger, begin: @escaping @Sendable () -> Void) {
        let seen = NSLock()
        nonisolated(unsafe) var count = 0
        sources = [SIGTERM, SIGINT].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let n = seen.withLock {
                    count += 1
                    return count
                }
                if n == 1 {
                    logger.info("signal \(sig): stopping (at most \(timeout) s; a second signal exits at once)")
                    SystemdNotify.send("STOPPING=1")
                    begin()
                    DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                        logger.error("still stopping after --shutdown-timeout \(timeout) s: exiting now")
                        exit(1)
                    }
                } else {
                    logger.error("signal \(sig) again: exiting now")
                    exit(1)
                }
            }
            source.resume()
            return source
        }
    }

    /// Stops listening (the process is about to exit normally).
    func cancel() {
        for s in sources { s.cancel() }
    }
}
