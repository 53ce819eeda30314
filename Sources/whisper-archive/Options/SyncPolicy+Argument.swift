import ArchiveStore
import ArgumentParser

/// `--sync always|none|interval:MS`.
extension SyncPolicy: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var defaultCompletionKind: CompletionKind { .list(["always", "none", "interval:100"]) }
}
