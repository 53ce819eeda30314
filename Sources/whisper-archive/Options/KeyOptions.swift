import ArgumentParser
import DevP2P
import EthCrypto
import Foundation
import Whisper

/// The keys that open Whisper messages: `--password`, `--sym-key`, `--private-key`.
struct OpeningKeyOptions: ParsableArguments {
    @Option(help: "Open messages with the symmetric key derived from this password (PBKDF2, 65356 rounds).")
    var password: String?

    @Option(name: .customLong("sym-key"), help: ArgumentHelp("Open messages with this 32-byte symmetric key (64 hex digits).", valueName: "hex"))
    var symKey: SymmetricKeyArgument?

    @Option(name: .customLong("private-key"), help: ArgumentHelp("Open messages with the private key in this file (64 hex digits).", valueName: "file"))
    var privateKey: String?

    func validate() throws {
        let given = [password != nil, symKey != nil, privateKey != nil].filter { $0 }.count
        if given > 1 { throw ValidationError("give at most one of --password, --sym-key, --private-key") }
    }

    /// The key given, if any.
    func openingKey() throws -> OpeningKey? {
        if let password { return .password(password) }
        if let symKey { return .symmetric(symKey.bytes) }
        if let privateKey { return .asymmetric(try KeyFile.read(privateKey)) }
        return nil
    }
}

/// Private key files (the node key format: 64 hex digits, mode 0600).
enum KeyFile {
    /// Reads a private key file; a file that is missing, unreadable or not a key is a failure naming the file.
    static func read(_ path: String) throws -> PrivateKey {
        do { return try NodeKey.load(path) } catch { throw CLIError(error.plainText) }
    }

    /// Writes a new key file (never over an existing one), with an error naming the file.
    static func write(_ key: PrivateKey, to path: String) throws {
        do { try NodeKey.write(key, to: path) } catch { throw CLIError(error.plainText) }
    }
}

extension RLPxError {
    /// The message without the `RLPx:` prefix, for node key files (whose detail names the file).
    var plainText: String {
        guard code == .nodeKey, let detail else { return description }
        return detail
    }
}
