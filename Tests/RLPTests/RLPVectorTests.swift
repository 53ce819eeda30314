import EthCrypto
import Foundation
import RLP
import TestSupport
import Testing

/// Converts a vector's `in` value (string, integer, "#bigint", array) to an RLP tree.
private func value(from json: Any) throws -> RLPValue {
    if let s = json as? String {
        if s.hasPrefix("#") { return .bytes(bigEndianBytes(decimal: String(s.dropFirst()))) }
        return .bytes(Array(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }))
    }
    if let n = json as? NSNumber {
        var v = n.uint64Value
        var b: [UInt8] = []
        while v > 0 {
            b.insert(UInt8(v & 0xFF), at: 0)
            v >>= 8
        }
        return .bytes(b)
    }
    if let a = json as? [Any] { return .list(try a.map(value(from:))) }
    throw VectorError("unsupported vector input \(json)")
}

/// Minimal big-endian bytes of a decimal number.
private func bigEndianBytes(decimal: String) -> [UInt8] {
    var digits = decimal.compactMap { $0.wholeNumberValue }
    var out: [UInt8] = []
    while !digits.isEmpty && !(digits.count == 1 && digits[0] == 0) {
        var rem = 0
        var next: [Int] = []
        for d in digits {
            let cur = rem * 10 + d
            let q = cur / 256
            rem = cur % 256
            if !(next.isEmpty && q == 0) { next.append(q) }
        }
        out.insert(UInt8(rem), at: 0)
        digits = next
    }
    return out
}

@Suite("RLP vectors (ethereum/tests)")
struct RLPVectorTests {
    nonisolated(unsafe) static let valid: [(String, [String: Any])] = {
        guard let obj = try? Vectors.object("rlp-valid.json"), let tests = obj["tests"] as? [String: [String: Any]] else { return [] }
        return tests.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }()

    static let invalid: [(String, String)] = {
        guard let obj = try? Vectors.object("rlp-invalid.json"), let tests = obj["tests"] as? [String: [String: Any]] else { return [] }
        return tests.sorted { $0.key < $1.key }.map { ($0.key, $0.value["out"] as? String ?? "") }
    }()

    @Test func vectorFilesAreComplete() {
        #expect(Self.valid.count == 28)
        #expect(Self.invalid.count == 26)
    }

    @Test("valid: encode to exactly `out` and decode back", arguments: valid.map(\.0))
    func validCase(_ name: String) throws {
        let test = try #require(Self.valid.first { $0.0 == name }?.1)
        let expected = try test.hex("out")
        let input = try value(from: try #require(test["in"]))
        #expect(input.encoded == expected, "\(name)")
        #expect(try RLPValue(decoding: expected) == input, "\(name)")
    }

    @Test func randomRLPTestDecodes() throws {
        let obj = try Vectors.object("rlp-valid.json")
        let random = try #require(obj["random_rlp_tests"] as? [String: [String: Any]])
        for (_, t) in random { _ = try RLPValue(decoding: try t.hex("out")) }
    }

    @Test("invalid: a strict decoder rejects", arguments: invalid.map(\.0))
    func invalidCase(_ name: String) throws {
        let hex = try #require(Self.invalid.first { $0.0 == name }?.1)
        let bytes = try Hex.decode(hex)
        #expect(throws: RLPError.self, "\(name)") { try RLPValue(decoding: bytes) }
    }

    @Test func goEthereumSupplementaryCases() throws {
        let obj = try Vectors.object("rlp-invalid.json")
        let cases = try obj.object("supplementary_go_ethereum_cases").objects("cases")
        #expect(cases.count == 26)
        for c in cases {
            let input = try c.hex("input_hex")
            let kind = try c.string("decode_as")
            let result = try c.string("go_ethereum_result")
            let decode: () throws -> Void = {
                var r = RLPReader(input)
                switch kind {
                case "unsigned integer", "uint64": _ = try r.readUInt64()
                case "uint32": _ = try r.readUInt32()
                case "big integer": _ = try r.readUIntBytes()
                case "byte string", "byte string or integer", "byte string / integer": _ = try r.readBytes()
                case "list", "list of uint":
                    var l = try r.readList()
                    while !l.isAtEnd { _ = try l.readUInt64() }
                default:
                    _ = try RLPValue.read(&r)
                }
                try r.finish()
            }
            if result.hasPrefix("none") {
                try decode()
            } else {
                #expect(throws: RLPError.self, "\(c["input_hex"] ?? "") as \(kind) should fail: \(result)") { try decode() }
            }
        }
    }
}

@Suite("RLP reader and writer")
struct RLPReaderTests {
    @Test func errorsCarryTheByteOffset() throws {
        // A list whose second item is a non-canonical single byte at offset 2.
        let bytes: [UInt8] = [0xC4, 0x01, 0x81, 0x05, 0x02]
        do {
            _ = try RLPValue(decoding: bytes)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .nonCanonicalSize)
            #expect(error.offset == 2)
        }
    }

    @Test func truncatedInputReportsUnexpectedEnd() throws {
        do {
            _ = try RLPValue(decoding: [0xB8, 0x40, 0x01])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .unexpectedEnd)
            #expect(error.offset == 0)
        }
    }

    @Test func integersRoundTrip() throws {
        for v: UInt64 in [0, 1, 0x7F, 0x80, 0xFF, 0x100, 1000, 100_000, UInt64(UInt32.max), .max] {
            var w = RLPWriter()
            w.append(uint: v)
            var r = RLPReader(w.bytes)
            #expect(try r.readUInt64() == v)
            try r.finish()
        }
    }

    @Test func uint32RejectsOverflow() throws {
        var w = RLPWriter()
        w.append(uint: UInt64(UInt32.max) + 1)
        var r = RLPReader(w.bytes)
        #expect(throws: RLPError.self) { try r.readUInt32() }
    }

    @Test func boolAcceptsOnlyGoForms() throws {
        var r = RLPReader([0x01, 0x80, 0x02])
        #expect(try r.readBool() == true)
        #expect(try r.readBool() == false)
        #expect(throws: RLPError.self) { try r.readBool() }
    }

    @Test func nestedListsAndLongPayloads() throws {
        let long = [UInt8](repeating: 0xAB, count: 70000)
        let v = RLPValue.list([.bytes(long), .list([.bytes([]), .list([])]), .bytes([0x7F])])
        let enc = v.encoded
        #expect(Array(enc.prefix(4)) == [0xFA, 0x01, 0x11, 0x78])
        #expect(try RLPValue(decoding: enc) == v)
    }
}
