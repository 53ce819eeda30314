import Dispatch
import Foundation

/// SIGHUP for `serve`: each one runs `reload` (on a dispatch queue of its own, one at a time). SIGHUP is ignored
/// by default from the moment this exists, so that a reload never ends the process the way SIGHUP's default does.
/// (Unchecked: the source is set once, and cancelling it is thread-safe.)
final class ReloadSignal: @unchecked Sendable {
    private let source: any DispatchSourceSignal

    init(reload: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "whisper-archive.reload"))
        source.setEventHandler(handler: reload)
        source.resume()
    }

    func cancel() { source.cancel() }
}
