import EthCrypto
import RLP

/// The code-11 "batch acknowledged" payload: the Keccak-256 of a code-1 packet's raw payload, as one RLP
/// string (whisper-mailserver §4.2). A mailserver sends it once the batch's envelopes are durable.
public struct BatchAcknowledgement: Sendable, Equatable {
    /// Keccak-256 of the code-1 payload.
    public var batchHash: [UInt8]

    /// The acknowledgement of the code-1 packet whose payload is `payload`.
    public init(batchPayload payload: [UInt8]) { batchHash = Keccak256.hash(payload) }

    /// An acknowledgement of the batch whose hash is `batchHash`.
    public init(batchHash: [UInt8]) { self.batchHash = batchHash }

    /// The code-11 payload.
    public var encoded: [UInt8] {
        var w = RLPWriter()
        w.append(bytes: batchHash)
        return w.bytes
    }
}
