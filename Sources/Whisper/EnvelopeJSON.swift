import EthCrypto

/// The JSON form of an envelope: one flat object per envelope, as `inspect --json` prints it and the
/// `jsonl` format stores it.
///
/// Keys: `hash, expiry, ttl, sent, topic, data, nonce, pow, bloom`. Byte strings are 0x-prefixed hex;
/// `expiry`, `ttl`, `sent`, `nonce` are integers and `pow` a number. On decoding, `expiry, ttl, topic,
/// data, nonce` are required; `hash`, `sent`, `bloom` and `pow`, when present, must match the envelope.
public enum EnvelopeJSON {
    /// A JSON value of a flat object.
    public enum Value: Sendable, Equatable {
        case string(String)
        /// A number kept as its literal text (so 64-bit integers stay exact).
        case number(String)
        case bool(Bool)
        case null
        /// A nested object or array, kept as raw text (ignored by the decoder).
        case nested(String)

        var json: String {
            switch self {
            case .string(let s): return EnvelopeJSON.quote(s)
            case .number(let n): return n
            case .bool(let b): return b ? "true" : "false"
            case .null: return "null"
            case .nested(let raw): return raw
            }
        }
    }

    /// The standard fields of `envelope`, in their documented order.
    public static func fields(_ envelope: Envelope) -> [(String, Value)] {
        [
            ("hash", .string("0x" + envelope.hash.hex)),
            ("expiry", .number(String(envelope.expiry))),
            ("ttl", .number(String(envelope.ttl))),
            ("sent", .number(String(envelope.sentTime))),
            ("topic", .string("0x" + envelope.topic.bytes.hex)),
            ("data", .string("0x" + envelope.data.hex)),
            ("nonce", .number(String(envelope.nonce))),
            ("pow", .number(formatDouble(envelope.proofOfWork()))),
            ("bloom", .string("0x" + envelope.bloom.bytes.hex)),
        ]
    }

    /// One line of JSON for `envelope`, followed by `extra` fields (such as an opened message's payload).
    public static func encode(_ envelope: Envelope, extra: [(String, Value)] = []) -> String {
        object(fields(envelope) + extra)
    }

    /// A flat JSON object from ordered fields.
    public static func object(_ fields: [(String, Value)]) -> String {
        var out = "{"
        for (i, (k, v)) in fields.enumerated() {
            if i > 0 { out += "," }
            out += quote(k)
            out += ":"
            out += v.json
        }
        out += "}"
        return out
    }

    /// Shortest round-trip text of a double (JSON has no NaN or infinity: those become null).
    public static func formatDouble(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        return "\(d)"
    }

    /// A JSON string literal.
    public static func quote(_ s: String) -> String {
        // Hex and most text need no escape: copied whole (a scalar at a time, a 2 KB data field took ~0.2 ms).
        var text = s
        let plain = text.withUTF8 { utf8 in !utf8.contains { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 } }
        if plain { return "\"" + s + "\"" }
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Decodes one JSON line into an envelope, checking any derived fields it carries.
    /// Errors carry the character offset in the line where known.
    public static func decode(line: String) throws(WhisperError) -> Envelope {
        let fields = try parseObject(line)
        func field(_ k: String) -> Value? { fields.first { $0.0 == k }?.1 }
        func required(_ k: String) throws(WhisperError) -> Value {
            guard let v = field(k) else { throw WhisperError(.invalidEnvelope, "missing key \"\(k)\"") }
            return v
        }
        func integer(_ k: String, max: UInt64) throws(WhisperError) -> UInt64 {
            let v = try required(k)
            switch v {
            case .number(let n):
                guard let x = UInt64(n), x <= max else { throw WhisperError(.invalidEnvelope, "\"\(k)\" is not an integer in 0...\(max): \(n)") }
                return x
            case .string(let s) where s.hasPrefix("0x"):
                guard let x = UInt64(s.dropFirst(2), radix: 16), x <= max else {
                    throw WhisperError(.invalidEnvelope, "\"\(k)\" is not a hex integer in range: \(s)")
                }
                return x
            default:
                throw WhisperError(.invalidEnvelope, "\"\(k)\" must be a number")
            }
        }
        func bytes(_ k: String) throws(WhisperError) -> [UInt8]? {
            guard let v = field(k) else { return nil }
            guard case .string(let s) = v else { throw WhisperError(.invalidEnvelope, "\"\(k)\" must be a hex string") }
            do { return try Hex.decode(s) } catch { throw WhisperError(.invalidEnvelope, "\"\(k)\": \(error)") }
        }
        let expiry = UInt32(try integer("expiry", max: UInt64(UInt32.max)))
        let ttl = UInt32(try integer("ttl", max: UInt64(UInt32.max)))
        let nonce = try integer("nonce", max: UInt64.max)
        guard let topic = try bytes("topic") else { throw WhisperError(.invalidEnvelope, "missing key \"topic\"") }
        guard topic.count == 4 else { throw WhisperError(.invalidEnvelope, "\"topic\" must be 4 bytes, got \(topic.count)") }
        guard let data = try bytes("data") else { throw WhisperError(.invalidEnvelope, "missing key \"data\"") }
        let envelope = Envelope(expiry: expiry, ttl: ttl, topic: Topic(bytes: topic), data: data, nonce: nonce)
        if let hash = try bytes("hash"), hash != envelope.hash {
            throw WhisperError(.invalidEnvelope, "\"hash\" 0x\(hash.hex) does not match the fields (0x\(envelope.hash.hex))")
        }
        if field("sent") != nil, UInt32(exactly: try integer("sent", max: UInt64(UInt32.max))) != envelope.sentTime {
            throw WhisperError(.invalidEnvelope, "\"sent\" does not equal expiry - ttl (\(envelope.sentTime))")
        }
        if let bloom = try bytes("bloom"), bloom != envelope.bloom.bytes {
            throw WhisperError(.invalidEnvelope, "\"bloom\" does not match the topic's bloom")
        }
        if case .number(let p)? = field("pow"), let pow = Double(p), pow != envelope.proofOfWork() {
            throw WhisperError(.invalidEnvelope, "\"pow\" \(p) does not match the envelope's PoW \(formatDouble(envelope.proofOfWork()))")
        }
        return envelope
    }

    /// Parses a flat JSON object into ordered key/value pairs.
    public static func parseObject(_ text: String) throws(WhisperError) -> [(String, Value)] {
        var p = FlatJSONParser(Array(text.utf8))
        return try p.parseObject()
    }
}

/// A small parser for one flat JSON object (nested values are kept as raw text).
struct FlatJSONParser {
    let s: [UInt8]
    var i = 0

    init(_ s: [UInt8]) { self.s = s }

    func fail(_ what: String) -> WhisperError {
        WhisperError(.invalidEnvelope, "JSON: \(what) at character \(i)", offset: i)
    }

    mutating func skipSpace() {
        while i < s.count, s[i] == 0x20 || s[i] == 0x09 || s[i] == 0x0A || s[i] == 0x0D { i += 1 }
    }

    mutating func expect(_ c: UInt8) throws(WhisperError) {
        skipSpace()
        guard i < s.count, s[i] == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        i += 1
    }

    mutating func parseObject() throws(WhisperError) -> [(String, EnvelopeJSON.Value)] {
        try expect(0x7B)
        var out: [(String, EnvelopeJSON.Value)] = []
        skipSpace()
        if i < s.count, s[i] == 0x7D {
            i += 1
            return try finish(out)
        }
        while true {
            skipSpace()
            let key = try parseString()
            try expect(0x3A)
            skipSpace()
            let value = try parseValue()
            if out.contains(where: { $0.0 == key }) { throw fail("duplicate key \"\(key)\"") }
            out.append((key, value))
            skipSpace()
            guard i < s.count else { throw fail("unterminated object") }
            if s[i] == 0x2C {
                i += 1
                continue
            }
            if s[i] == 0x7D {
                i += 1
                break
            }
            throw fail("expected ',' or '}'")
        }
        return try finish(out)
    }

    mutating func finish(_ out: [(String, EnvelopeJSON.Value)]) throws(WhisperError) -> [(String, EnvelopeJSON.Value)] {
        skipSpace()
        guard i == s.count else { throw fail("trailing characters after the object") }
        return out
    }

    mutating func parseValue() throws(WhisperError) -> EnvelopeJSON.Value {
        guard i < s.count else { throw fail("missing value") }
        switch s[i] {
        case 0x22: return .string(try parseString())
        case 0x74:
            try literal("true")
            return .bool(true)
        case 0x66:
            try literal("false")
            return .bool(false)
        case 0x6E:
            try literal("null")
            return .null
        case 0x7B, 0x5B:
            let start = i
            var depth = 0
            while i < s.count {
                let c = s[i]
                if c == 0x22 {
                    _ = try parseString()
                    continue
                }
                if c == 0x7B || c == 0x5B { depth += 1 }
                if c == 0x7D || c == 0x5D { depth -= 1 }
                i += 1
                if depth == 0 { return .nested(String(decoding: s[start..<i], as: UTF8.self)) }
            }
            throw fail("unterminated nested value")
        default:
            let start = i
            while i < s.count, (s[i] >= 0x30 && s[i] <= 0x39) || s[i] == 0x2D || s[i] == 0x2B || s[i] == 0x2E || s[i] == 0x65 || s[i] == 0x45 {
                i += 1
            }
            guard i > start else { throw fail("unexpected character") }
            return .number(String(decoding: s[start..<i], as: UTF8.self))
        }
    }

    mutating func literal(_ word: String) throws(WhisperError) {
        let w = Array(word.utf8)
        guard i + w.count <= s.count, Array(s[i..<(i + w.count)]) == w else { throw fail("invalid literal") }
        i += w.count
    }

    mutating func parseString() throws(WhisperError) -> String {
        guard i < s.count, s[i] == 0x22 else { throw fail("expected a string") }
        i += 1
        // Without escapes (hex, nearly every value) the string is copied in one piece.
        let start = i
        while i < s.count, s[i] != 0x22, s[i] != 0x5C { i += 1 }
        if i < s.count, s[i] == 0x22 {
            i += 1
            return String(decoding: s[start..<(i - 1)], as: UTF8.self)
        }
        var out = Array(s[start..<i])
        while i < s.count {
            let c = s[i]
            if c == 0x22 {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if c == 0x5C {
                i += 1
                guard i < s.count else { break }
                switch s[i] {
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x75:
                    guard i + 4 < s.count, let v = UInt32(String(decoding: s[(i + 1)...(i + 4)], as: UTF8.self), radix: 16),
                        let scalar = Unicode.Scalar(v)
                    else { throw fail("invalid \\u escape") }
                    out += Array(String(Character(scalar)).utf8)
                    i += 4
                default: out.append(s[i])
                }
                i += 1
                continue
            }
            out.append(c)
            i += 1
        }
        throw fail("unterminated string")
    }
}
