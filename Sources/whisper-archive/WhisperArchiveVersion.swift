/// The version printed by `--version` and announced in the devp2p client id.
enum WhisperArchiveVersion {
    static let string = "0.1.0"
}
