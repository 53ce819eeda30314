import DevP2P
import EthCrypto

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
