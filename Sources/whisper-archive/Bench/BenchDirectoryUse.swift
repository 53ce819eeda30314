/// What a bench does with its `--directory`, as the help line of that option says.
protocol BenchDirectoryUse {
    /// The help line of `--directory`.
    static var help: String { get }
}

/// A bench that builds everything afresh in its directory.
enum FreshBenchDirectory: BenchDirectoryUse {
    static var help: String { "Work directory (default: a fresh temporary directory, removed afterwards)." }
}

/// `bench verify`, which reuses an archive of exactly `--count` envelopes.
enum BenchArchiveOfCount: BenchDirectoryUse {
    static var help: String { BenchDirectoryHelp.reusing(size: "--count") }
}

/// `bench serve`, which reuses an archive of exactly `--envelopes` envelopes.
enum BenchArchiveOfEnvelopes: BenchDirectoryUse {
    static var help: String { BenchDirectoryHelp.reusing(size: "--envelopes") }
}

/// The help line of a `--directory` whose archive a bench reuses.
private enum BenchDirectoryHelp {
    static func reusing(size flag: String) -> String {
        "Work directory (default: a fresh temporary directory, removed afterwards); an archive it already holds with "
            + "exactly \(flag) envelopes is reused, read only (an archive of another size is refused)."
    }
}
