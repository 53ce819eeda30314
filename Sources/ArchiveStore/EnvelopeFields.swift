import EthCrypto
import RLP
import Whisper

/// Reads sent time and topic from an envelope's RLP without hashing it.
enum EnvelopeFields {
    static func parse(_ rlp: [UInt8]) -> (sentTime: UInt32, topic: Topic)? {
        var r = RLPReader(rlp)
        guard var list = try? r.readList(), let expiry = try? list.readUInt32(), let ttl = try? list.readUInt32(),
            let topic = try? list.readBytes(count: 4)
        else { return nil }
        return (expiry &- ttl, Topic(bytes: topic))
    }

    static func hash(_ rlp: [UInt8]) -> [UInt8] { Keccak256.hash(rlp) }
}
