import ArgumentParser

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
            """,
        version: WhisperArchiveVersion.string,
        subcommands: []
    )
}

/// The version printed by `--version` and announced in the devp2p client id.
enum WhisperArchiveVersion {
    static let string = "0.1.0"
}
