import ArgumentParser
import Whisper

/// The keys that open Whisper messages: `--password`, `--sym-key`, `--private-key`.
struct OpeningKeyOptions: ParsableArguments {
    @Option(help: "Open messages with the symmetric key derived from this password (PBKDF2, 65356 rounds).")
    var password: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp("As --password, with the password read from this file.", valueName: "file"), completion: .file())
    var passwordFile: String?

    @Option(name: .customLong("sym-key"), help: ArgumentHelp("Open messages with this 32-byte symmetric key (64 hex digits).", valueName: "hex"))
    var symKey: SymmetricKeyArgument?

    @Option(
        name: .customLong("private-key"),
        help: ArgumentHelp("Open messages with the private key in this file (64 hex digits).", valueName: "file"),
        completion: .file()
    )
    var privateKey: String?

    func validate() throws {
        let given = [password != nil, passwordFile != nil, symKey != nil, privateKey != nil].filter { $0 }.count
        if given > 1 { throw ValidationError("give at most one of --password, --password-file, --sym-key, --private-key") }
    }

    /// The key given, if any.
    func openingKey() throws -> OpeningKey? {
        if let password { return .password(password) }
        if let passwordFile { return .password(try PasswordFile.read(passwordFile)) }
        if let symKey { return .symmetric(symKey.bytes) }
        if let privateKey { return .asymmetric(try KeyFile.read(privateKey)) }
        return nil
    }
}
