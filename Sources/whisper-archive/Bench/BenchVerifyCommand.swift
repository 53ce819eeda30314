import ArchiveStore
import ArgumentParser
import EthCrypto
import Foundation
import Whisper

/// `whisper-archive bench verify`: quick and full verification rates against Keccak-256 in the same run.
struct BenchVerifyCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "verify and verify --full over an archive of 1 KiB envelopes, against Keccak-256 in the same run.",
        discussion: """
            Builds an archive of --count 1 KiB envelopes (or reuses the one in --directory when it holds \
            exactly that many), then alternates --runs times: Keccak-256 over 1 KiB inputs on one core, \
            `verify` (headers, CRC32C, index ↔ segments) and `verify --full` (also decodes every envelope, \
            recomputes its hash and checks its key). Rates are MB/s of segment bytes read; the ratio is \
            the median full-verify rate over the median Keccak-256 rate.

            Example:
              swift build -c release && .build/release/whisper-archive bench verify --count 1000000
            """
    )

    @Option(help: "Envelopes in the archive (1 KiB each).")
    var count = 1_000_000

    @Option(help: "Repetitions (the median is reported).")
    var runs = 3

    @OptionGroup var directoryOption: BenchDirectoryOptions<BenchArchiveOfCount>

    @OptionGroup var output: BenchOutputOptions

    func validate() throws {
        if count < 1000 { throw ValidationError("--count must be at least 1000") }
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
    }

    struct Figures: Encodable {
        var keccak256MBps: Double
        var verifyMBps: Double
        var verifyFullMBps: Double
        var fullOverKeccak: Double
        var segmentBytes: Int64
        var envelopes: Int
    }

    func run() async throws {
        let work = try directoryOption.workDirectory(prefix: "wa-bench-verify")
        defer { work.removeIfTemporary() }
        let path = work.file("archive")
        // An archive found in --directory is only read (opened as a reader), never written to.
        let data = BenchEnvelopes(count: count, topics: BenchEnvelopes.topics(100), span: UInt64(count / 100))
        try await BenchArchive.openOrBuild(path, from: data) { reused in
            if !reused { output.note("building an archive of \(count) envelopes…") }
        }.close()

        let block = SecureRandom.bytes(1024)
        var keccak: [Double] = []
        var quick: [Double] = []
        var full: [Double] = []
        var bytes: Int64 = 0
        for _ in 0..<runs {
            keccak.append(keccak256MBps(block, rounds: 200_000))
            for isFull in [false, true] {
                let report = try Archive.verify(directory: path, full: isFull)
                guard report.isClean else {
                    throw CLIError("the bench archive does not verify clean: \(report.findings.first.map { "\($0)" } ?? "")")
                }
                bytes = report.bytes
                let rate = Double(report.bytes) / report.seconds / 1e6
                if isFull { full.append(rate) } else { quick.append(rate) }
            }
        }
        let f = Figures(
            keccak256MBps: median(keccak),
            verifyMBps: median(quick),
            verifyFullMBps: median(full),
            fullOverKeccak: median(full) / median(keccak),
            segmentBytes: bytes,
            envelopes: count
        )
        if output.json {
            print(jsonLine(f))
        } else {
            print("bench verify: \(count) envelopes, \(bytes) segment bytes, median of \(runs) runs")
            print(String(format: "keccak256_1KiB        %9.1f MB/s", f.keccak256MBps))
            print(String(format: "verify                %9.1f MB/s", f.verifyMBps))
            print(String(format: "verify_full           %9.1f MB/s  (%.0f%% of Keccak-256)", f.verifyFullMBps, 100 * f.fullOverKeccak))
        }
    }
}
