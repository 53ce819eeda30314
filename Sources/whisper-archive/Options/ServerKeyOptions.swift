import ArgumentParser
import EthCrypto
import Foundation
import SystemErrorText

/// The keys of `serve`: its node key (`--node-key`) and the mailserver password (`--password`, `--password-file`).
struct ServerKeyOptions: ParsableArguments {
    @Option(name: .customLong("node-key"), help: "The node key file (default: DIR/node.key, created on first start).", completion: .file())
    var nodeKey: String?

    @Option(
        help: "Mailserver password: requests encrypted with its key are accepted (or WHISPER_ARCHIVE_PASSWORD, or --config's MailServerPassword)."
    )
    var password: String?

    @Option(name: .customLong("password-file"), help: "Read the mailserver password from this file.", completion: .file())
    var passwordFile: String?

    func validate() throws {
        if password != nil && passwordFile != nil { throw ValidationError("give --password or --password-file, not both") }
    }

    /// The node key from `--node-key`, or from `archive`/node.key, which is created with a fresh key when missing
    /// (so that the identity survives restarts). A `--node-key` file that does not exist is a failure.
    /// With no archive directory (a database), `--node-key` is required (``ServeCommand`` checks it).
    ///
    /// `serve --config` may name the key: its NodeKeyFile, or status-go's NodeKey (the key in hex), after
    /// `--node-key` and before the archive's file.
    func nodeKey(archive: String?, config: ServeConfigFile = ServeConfigFile()) throws -> PrivateKey {
        if nodeKey == nil, config.nodeKeyFile == nil, let key = config.nodeKey { return key }
        let named = nodeKey ?? config.nodeKeyFile
        guard let keyPath = named ?? archive.map({ ($0 as NSString).appendingPathComponent("node.key") }) else {
            throw CLIError("give --node-key FILE")
        }
        if FileManager.default.fileExists(atPath: keyPath) { return try KeyFile.read(keyPath) }
        if named != nil {
            throw CLIError("node key file \(keyPath) does not exist (create one with `whisper-archive keygen --output \(keyPath)`)")
        }
        let key = PrivateKey.generate()
        try KeyFile.write(key, to: keyPath)
        return key
    }

    /// The environment variable that may hold the mailserver password (so that it stays out of process lists).
    static let passwordVariable = "WHISPER_ARCHIVE_PASSWORD"

    /// The mailserver password: `--password`, or the text of `--password-file` without the line breaks at its ends,
    /// or `WHISPER_ARCHIVE_PASSWORD`, or the config file's MailServerPassword.
    func mailPassword(
        config: ServeConfigFile = ServeConfigFile(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> String? {
        if password == nil && passwordFile == nil {
            return environment[Self.passwordVariable] ?? config.mailServerPassword
        }
        guard let passwordFile else { return password }
        return try PasswordFile.read(passwordFile)
    }
}
