import ArgumentParser
import DevP2P
import EthCrypto

/// `whisper-archive keygen`: write a new node key.
struct KeygenCommand: ParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a new secp256k1 node key and print its public key and node ID.",
        discussion: """
            The key file holds the 32-byte private key as 64 hex digits, mode 0600. An existing \
            file is never overwritten. `serve --node-key FILE` and `seal --sign-with FILE` read it.

            Example:
              whisper-archive keygen --output node.key
            """
    )

    @Option(help: ArgumentHelp("Where to write the key (must not exist).", valueName: "file"), completion: .file())
    var output: String

    func run() throws {
        let key = PrivateKey.generate()
        try KeyFile.write(key, to: output)
        print("public key: 0x\(key.publicKey.bytes.hex)")
        print("node id:    0x\(key.publicKey.nodeID.hex)")
    }
}
