import EthCrypto
import Testing
import Whisper

/// The code-11 and code-12 payloads a mailserver sends after a code-1 batch, byte for byte.
@Suite("Message response and batch acknowledgement payloads")
struct MessageResponseTests {
    static let batch = [UInt8](repeating: 0xAA, count: 32)
    static let envelope = [UInt8](repeating: 0xBB, count: 32)

    /// Hand-encoded RLP: `[1, [batch, [[envelope, code, "x"]]]]` and `[1, [batch, []]]`.
    @Test(
        "message response bytes",
        arguments: [
            (
                EnvelopeErrorCode.whisperOther,
                "f84901f846a0" + String(repeating: "aa", count: 32) + "e4e3a0" + String(repeating: "bb", count: 32) + "2678"
            ),
            (
                EnvelopeErrorCode.whisperTimeNotSynced,
                "f84901f846a0" + String(repeating: "aa", count: 32) + "e4e3a0" + String(repeating: "bb", count: 32) + "2578"
            ),
            (
                EnvelopeErrorCode.wakuOther,
                "f84901f846a0" + String(repeating: "aa", count: 32) + "e4e3a0" + String(repeating: "bb", count: 32) + "1678"
            ),
            (
                EnvelopeErrorCode.wakuTimeNotSynced,
                "f84901f846a0" + String(repeating: "aa", count: 32) + "e4e3a0" + String(repeating: "bb", count: 32) + "1578"
            ),
        ]
    )
    func messageResponse(code: EnvelopeErrorCode, hex: String) throws {
        let response = MessageResponse(
            batchHash: Self.batch,
            errors: [.init(hash: Self.envelope, code: code, description: "x")]
        )
        #expect(response.encoded.hex == hex)
    }

    @Test func messageResponseWithoutErrors() {
        #expect(MessageResponse(batchHash: Self.batch, errors: []).encoded.hex == "e401e2a0" + String(repeating: "aa", count: 32) + "c0")
    }

    @Test func errorCodesAreStatusGosNumbers() {
        #expect([EnvelopeErrorCode.whisperTimeNotSynced, .whisperOther, .wakuTimeNotSynced, .wakuOther].map(\.rawValue) == [37, 38, 21, 22])
    }

    /// The acknowledgement of an empty list (`c0`): Keccak-256 of `c0` is the well-known empty-list hash.
    @Test func batchAcknowledgementBytes() {
        let ack = BatchAcknowledgement(batchPayload: [0xC0])
        #expect(ack.encoded.hex == "a01dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
    }

    @Test func powRequirementAndBloomExchange() throws {
        // 0x3FF0000000000000 is 1.0.
        #expect(try WhisperStatus.powRequirement(payload: [0x88, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0]) == 1.0)
        // NaN is refused.
        #expect(throws: WhisperError.self) { try WhisperStatus.powRequirement(payload: [0x88, 0x7F, 0xF8, 0, 0, 0, 0, 0, 0]) }
        #expect(throws: WhisperError.self) { try WhisperStatus.powRequirement(payload: [0xC0]) }
        let bloom = [UInt8](repeating: 0x0F, count: 64)
        #expect(try WhisperStatus.bloomFilter(payload: [0xB8, 64] + bloom) == Bloom(bytes: bloom))
        // A bloom exchange must carry exactly 64 bytes.
        #expect(throws: WhisperError.self) { try WhisperStatus.bloomFilter(payload: [0x80]) }
    }
}
