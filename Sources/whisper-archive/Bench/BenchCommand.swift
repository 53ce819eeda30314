import ArgumentParser

/// `whisper-archive bench`: the performance figures the project commits to.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput and latency (run on a release build).",
        discussion: """
            Each subcommand prints medians over repeated runs; ratios are given where a \
            baseline runs in the same process. Build with `swift build -c release` first.

            Example:
              whisper-archive bench core
            """,
        subcommands: [
            BenchCoreCommand.self,
            BenchServeCommand.self,
            BenchNetCommand.self,
            BenchStoreCommand.self,
            BenchCompactCommand.self,
            BenchVerifyCommand.self,
        ]
    )
}
