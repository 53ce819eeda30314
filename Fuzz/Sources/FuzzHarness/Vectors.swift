import EthCrypto

/// The fixed keys and nonces of the EIP-8 handshake vectors (Tests/Fixtures/rlpx-eip8.json): node A initiates to B.
/// The seed packets in the corpora are those vectors' packets, so they decrypt under these keys.
enum Vectors {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.makeIterator()
        while let h = it.next(), let l = it.next() { out.append(UInt8(String([h, l]), radix: 16)!) }
        return out
    }

    static let staticA = try! PrivateKey(bytes: bytes("49a7b37aa6f6645917e7b807e9d1c00d4fa71f18343b0d4122a4d2df64dd6fee"))
    static let staticB = try! PrivateKey(bytes: bytes("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"))
    static let ephemeralA = try! PrivateKey(bytes: bytes("869d6ecf5211f1cc60418a13b9d870b22959d0c16f02bec714c960dd2298a32d"))
    static let ephemeralB = try! PrivateKey(bytes: bytes("e238eb8e04fee6511ab04c6dd3c89ce097b11f25d584863ac2b6d5b35b1847e4"))
    static let nonceA = bytes("7e968bba13b6c50e2c4cd7f241cc0d64d1ac25c7f5952df231ac6a2bda8ee5d6")
    static let nonceB = bytes("559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd")
    /// Fixed ECIES randomness for packets the harnesses seal themselves.
    static let sealIV = [UInt8](repeating: 0x3C, count: 16)
}
