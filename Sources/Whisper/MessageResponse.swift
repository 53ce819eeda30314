import RLP

/// The code-12 "message response" payload: which envelopes of one code-1 batch were not accepted, and why
/// (whisper-mailserver §4.2, §4.4): `[Version, [BatchHash, [[EnvelopeHash, Code, Description], …]]]`.
public struct MessageResponse: Sendable, Equatable {
    /// The version item status-go sends.
    public static let version: UInt64 = 1

    /// One envelope that was not accepted.
    public struct EnvelopeError: Sendable, Equatable {
        /// The envelope's hash.
        public var hash: [UInt8]
        /// Why, as a number in the peer's protocol.
        public var code: EnvelopeErrorCode
        /// Why, in words.
        public var description: String

        /// An error for the envelope whose hash is `hash`.
        public init(hash: [UInt8], code: EnvelopeErrorCode, description: String) {
            self.hash = hash
            self.code = code
            self.description = description
        }
    }

    /// Keccak-256 of the code-1 payload, as in ``BatchAcknowledgement``.
    public var batchHash: [UInt8]
    /// The envelopes not accepted, in batch order.
    public var errors: [EnvelopeError]

    /// A response to the batch whose hash is `batchHash`.
    public init(batchHash: [UInt8], errors: [EnvelopeError]) {
        self.batchHash = batchHash
        self.errors = errors
    }

    /// The code-12 payload.
    public var encoded: [UInt8] {
        var w = RLPWriter()
        w.list { w in
            w.append(uint: MessageResponse.version)
            w.list { w in
                w.append(bytes: batchHash)
                w.list { w in
                    for e in errors {
                        w.list { w in
                            w.append(bytes: e.hash)
                            w.append(uint: e.code.rawValue)
                            w.append(bytes: Array(e.description.utf8))
                        }
                    }
                }
            }
        }
        return w.bytes
    }
}
