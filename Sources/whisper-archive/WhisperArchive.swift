import ArgumentParser
import SystemErrorText

#if canImport(Glibc)
import Glibc
#endif

/// The `whisper-archive` command: a Whisper/Waku mailserver and archive toolkit.
@main
struct WhisperArchive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whisper-archive",
        abstract: "Archive, serve and examine Whisper (shh/6) and Waku (waku/1) envelopes.",
        discussion: """
            whisper-archive is a Whisper mailserver and the tools around its archive: \
            import and export between formats, maintenance, forensics, and fetching \
            history from other mailservers.

            Exit codes: 0 success, 1 failure or findings, 2 usage error.

            Example:
              whisper-archive inspect --file Samples/envelopes.rlp
            """,
        version: WhisperArchiveVersion.string,
        subcommands: [
            InspectCommand.self,
            SealCommand.self,
            KeygenCommand.self,
            BenchCommand.self,
            ServeCommand.self,
            RequestCommand.self,
            SyncCommand.self,
            ReplayCommand.self,
            ImportCommand.self, ExportCommand.self, ReindexCommand.self,
            AuditCommand.self,
            VerifyCommand.self,
            CompactCommand.self,
        ]
    )

    /// Parses, runs, and maps failures to the documented exit codes (usage errors exit 2).
    static func main() async {
        do {
            try LogLine.bootstrap()
        } catch {
            LogLine.cli.error("\(error.description)")
            Glibc.exit(2)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            LogLine.cli.error("\(error.description)")
            Glibc.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode {
                exit(withError: error)
            }
            if code.rawValue == 1 {
                // A failure that no command put into words: still one plain line, no type dump.
                LogLine.cli.error("\(SystemErrorText.describe(error))")
                Glibc.exit(1)
            }
            // Usage and validation errors: one line naming the flag (and, for a refused value, why), then exit 2.
            LogLine.cli.error("\(usageLine(for: error))")
            Glibc.exit(code == .validationFailure || code.rawValue == 64 ? 2 : code.rawValue)
        }
    }

    /// argument-parser's message for a usage error on one line, with the reason a value was refused.
    static func usageLine(for error: any Error) -> String {
        var line = message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
        if let reason = ArgumentFailure.reason(for: line) { line += ": " + reason }
        return line + " (see --help)"
    }
}
