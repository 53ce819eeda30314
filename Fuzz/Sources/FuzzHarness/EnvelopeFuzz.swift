import Whisper

/// Envelope decoding (`Envelope(rlp:)`, `decodeBatch`) and the receive checks a node applies to code-1 packets.
public enum EnvelopeFuzz {
    /// A fixed clock, so that runs are reproducible: the day the envelopes of Samples/ were sent.
    static let now: UInt32 = 1_714_521_600

    /// One input: the first byte picks the clock offset and the policy's limits, the rest is the payload.
    public static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let control = input.byte()
        let payload = input.rest()
        let policy = ReceivePolicy(
            minPoW: Double(control & 0x0F) / 8,
            maxMessageSize: 1 << (10 + Int(control >> 4) % 11),
            bloom: control & 1 == 0 ? .full : Bloom(topic: Topic(rawValue: 0x1234_5678))
        )
        if let envelope = try? Envelope(rlp: payload) {
            precondition(envelope.rlp == payload, "a strictly decoded envelope does not keep its exact bytes")
            check(envelope, policy: policy, control: control)
            let again = try? Envelope(rlp: envelope.rlp)
            precondition(again == envelope, "an envelope does not decode from its own bytes")
            let json = EnvelopeJSON.encode(envelope)
            precondition((try? EnvelopeJSON.decode(line: json)) == envelope, "an envelope does not survive JSON")
        }
        if let batch = try? Envelope.decodeBatch(payload) {
            for envelope in batch { check(envelope, policy: policy, control: control) }
        }
    }

    static func check(_ envelope: Envelope, policy: ReceivePolicy, control: UInt8) {
        let clock = now &+ UInt32(control) &* 7 &- 600
        _ = policy.check(envelope, now: clock)
        _ = policy.check(envelope, now: envelope.expiry)
        _ = policy.check(envelope, now: envelope.sentTime &- 5)
        _ = envelope.proofOfWork(diff: UInt32(control))
        _ = envelope.key
        _ = envelope.bloom
    }
}
