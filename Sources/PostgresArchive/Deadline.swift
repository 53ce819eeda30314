import NIOConcurrencyHelpers

/// Bounds a database round trip in time.
///
/// The work runs in a task of its own, and the caller resumes at the deadline even when the work does not
/// notice cancellation (a query waiting on a server that stopped answering): the work is cancelled and left to
/// finish in the background, while the caller reports the timeout.
enum Deadline {
    /// The deadline passed first.
    struct Expired: Error {
        let after: Duration
    }

    static func run<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let outcome = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            outcome.withLockedValue { $0 = continuation }
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                outcome.withLockedValue { $0.take() }?.resume(with: result)
            }
            Task {
                try? await Task.sleep(for: limit)
                if let waiting = outcome.withLockedValue({ $0.take() }) {
                    work.cancel()
                    waiting.resume(throwing: Expired(after: limit))
                }
            }
        }
    }
}
