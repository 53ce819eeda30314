import ArgumentParser
import EthCrypto
import Foundation
import SystemErrorText
import Whisper

/// `whisper-archive seal`: build a real envelope with proof of work.
struct SealCommand: ParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Build an envelope (encrypt, sign, proof of work) and print its RLP as hex.",
        discussion: """
            Seals a message the way go-ethereum and status-go do: sign (optional), encrypt \
            (symmetric with a password or key, or asymmetric to a public key), wrap in an \
            envelope, and search a nonce that meets the PoW target.

            Examples:
              whisper-archive seal --topic f26e7779 --payload "hello" --password status-offline-inbox
              whisper-archive seal --topic 01020304 --payload @message.bin --public-key 04ab... --sign-with node.key --json
            """
    )

    @Option(help: ArgumentHelp("The 4-byte topic (8 hex digits).", valueName: "hex"))
    var topic: TopicArgument

    @Option(help: "The payload: text, or @FILE to read bytes from a file.")
    var payload: String

    @Option(help: "Encrypt with the key derived from this password.")
    var password: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp("As --password, with the password read from this file.", valueName: "file"), completion: .file())
    var passwordFile: String?

    @Option(name: .customLong("sym-key"), help: ArgumentHelp("Encrypt with this 32-byte symmetric key (64 hex digits).", valueName: "hex"))
    var symKey: SymmetricKeyArgument?

    @Option(name: .customLong("public-key"), help: ArgumentHelp("Encrypt to this public key (64 or 65 bytes, hex).", valueName: "hex"))
    var publicKey: PublicKeyArgument?

    @Option(
        name: [.customLong("private-key"), .customLong("sign-with")],
        help: ArgumentHelp("Sign with the private key in this file (--sign-with is the older name).", valueName: "file"),
        completion: .file()
    )
    var signWith: String?

    @Option(help: "Time to live in seconds.")
    var ttl: UInt32 = 50

    @Option(help: "Proof-of-work target.")
    var pow: Double = 0.2

    @Flag(help: "Print the envelope as a JSON object instead of RLP hex.")
    var json = false

    func validate() throws {
        let given = [password != nil, passwordFile != nil, symKey != nil, publicKey != nil].filter { $0 }.count
        if given != 1 { throw ValidationError("give exactly one of --password, --password-file, --sym-key, --public-key") }
        if ttl == 0 { throw ValidationError("--ttl must be at least 1") }
        if !(pow >= 0) || !pow.isFinite { throw ValidationError("--pow must be a finite number ≥ 0") }
    }

    func run() throws {
        let body: [UInt8]
        if payload.hasPrefix("@") {
            let path = String(payload.dropFirst())
            do { body = Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw CLIError("cannot read the payload file: \(SystemErrorText.describe(error, subject: path))")
            }
        } else {
            body = Array(payload.utf8)
        }
        let key: SealingKey
        if let password {
            key = .password(password)
        } else if let passwordFile {
            key = .password(try PasswordFile.read(passwordFile))
        } else if let symKey {
            key = .symmetric(symKey.bytes)
        } else {
            key = .asymmetric(publicKey!.key)
        }
        let signer = try signWith.map(KeyFile.read)
        let envelope: Envelope
        do {
            envelope = try Envelope.seal(payload: body, topic: topic.topic, key: key, signer: signer, ttl: ttl, targetPoW: pow)
        } catch {
            throw CLIError("seal: \(error)")
        }
        print(json ? EnvelopeJSON.encode(envelope) : "0x" + envelope.rlp.hex)
    }
}
