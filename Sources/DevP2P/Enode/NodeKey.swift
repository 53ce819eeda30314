import EthCrypto
import SystemErrorText

#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// The node key file: the 32-byte secp256k1 private key as 64 hex digits and a newline, mode 0600.
public enum NodeKey {
    /// Reads the key at `path` (surrounding whitespace and a 0x prefix are tolerated).
    public static func load(_ path: String) throws(RLPxError) -> PrivateKey {
        guard let fd = Optional(open(path, O_RDONLY)), fd >= 0 else {
            throw RLPxError(.nodeKey, "\(SystemErrorText.text(errno: errno)): \(path)")
        }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw RLPxError(.nodeKey, "\(SystemErrorText.text(errno: errno)): \(path)") }
        guard n > 0 else { throw RLPxError(.nodeKey, "empty key file: \(path)") }
        let text = String(decoding: bytes[0..<n], as: UTF8.self)
        do {
            let raw = try Hex.decode(text)
            guard raw.count == 32 else { throw RLPxError(.nodeKey, "\(path): expected 64 hex digits, found \(raw.count * 2)") }
            return try PrivateKey(bytes: raw)
        } catch let e as RLPxError {
            throw e
        } catch {
            throw RLPxError(.nodeKey, "\(path): \(error)")
        }
    }

    /// Writes `key` to a new file at `path` with mode 0600; refuses to overwrite an existing file.
    public static func write(_ key: PrivateKey, to path: String) throws(RLPxError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST {
                throw RLPxError(.nodeKey, "\(path) already exists; refusing to overwrite a node key (move it away first)")
            }
            throw RLPxError(.nodeKey, "cannot create: \(SystemErrorText.text(errno: errno)): \(path)")
        }
        defer { close(fd) }
        let text = Array((key.bytes.hex + "\n").utf8)
        let written = text.withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
        guard written == text.count, fsync(fd) == 0 else {
            throw RLPxError(.nodeKey, "write failed: \(SystemErrorText.text(errno: errno)): \(path)")
        }
    }
}
