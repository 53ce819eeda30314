import Foundation

/// Runs blocking work (waiting for a child process, reading its pipes, sleeping between its steps) on a thread
/// of its own and awaits the result.
///
/// Swift's cooperative pool has one thread per core. A test that blocked one of them for the whole life of a child
/// process held it for seconds; on 2 cores, two such tests starved every async test in the run, and a socket test
/// once sat past its server's 10 s handshake timeout. Work handed to `blocking` leaves the pool free meanwhile.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result(catching: body)) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
