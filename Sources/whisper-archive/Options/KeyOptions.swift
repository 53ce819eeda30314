import ArgumentParser
import DevP2P
import EthCrypto
import Foundation
import Whisper

/// The keys that open Whisper messages: `--password`, `--sym-key`, `--private-key`.
struct OpeningKeyOptions: ParsableArguments {
    @Option(help: "Open messages with the symmetric key derived from this password (PBKDF2, 65356 rounds).")
    var password: String?

    @Option(name: .customLong("sym-key"), help: "Open messages with this 32-byte symmetric key (hex).")
    var symKey: String?

    @Option(name: .customLong("private-key"), help: "Open messages with the private key in this file (64 hex digits).")
    var privateKey: String?

    func validate() throws {
        let given = [password != nil, symKey != nil, privateKey != nil].filter { $0 }.count
        if given > 1 { throw ValidationError("give at most one of --password, --sym-key, --private-key") }
    }

    /// The key given, if any.
    func openingKey() throws -> OpeningKey? {
        if let password { return .password(password) }
        if let symKey {
            let k = try CLIError.parseHex(symKey, what: "--sym-key")
            guard k.count == 32 else { throw CLIError("--sym-key must be 32 bytes (64 hex digits), got \(k.count) bytes") }
            return .symmetric(k)
        }
        if let privateKey { return .asymmetric(try KeyFile.read(privateKey)) }
        return nil
    }
}

/// Private key files (the node key format: 64 hex digits, mode 0600).
enum KeyFile {
    /// Reads a private key file, with an error naming the file.
    static func read(_ path: String) throws -> PrivateKey {
        do { return try NodeKey.load(path) } catch { throw CLIError(error.description) }
    }
}
