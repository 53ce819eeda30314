import Whisper

/// Reads concatenated envelope RLPs, or one top-level RLP list of envelopes (a 0x7f payload).
public struct RLPStreamSource: EnvelopeSource {
    private let input: ByteInput
    private var buffer: [UInt8] = []
    private var start = 0
    /// Stream offset of `buffer[0]`.
    private var base: Int64 = 0
    private var eof = false
    private var checkedWrapper = false
    /// End offset of the enclosing list when the file is one list of envelopes.
    private var wrapperEnd: Int64?
    private var done = false

    /// Opens `path` (`.lz4` is decompressed).
    public init(path: String) throws(FormatError) { input = try ByteInput(path: path) }

    public var bytesRead: Int64 { input.fileBytesRead }

    private mutating func ensure(_ n: Int) throws(FormatError) -> Bool {
        while buffer.count - start < n {
            if eof { return false }
            if start > 0 && start >= buffer.count / 2 {
                buffer.removeSubrange(0..<start)
                base += Int64(start)
                start = 0
            }
            let chunk = try input.read()
            if chunk.isEmpty { eof = true } else { buffer.append(contentsOf: chunk) }
        }
        return true
    }

    /// Parses the header at `start`: (isList, header length, payload length), or an error text.
    private func header() -> (Bool, Int, Int)? {
        let b = buffer[start]
        switch b {
        case 0x00...0x7F: return (false, 0, 1)
        case 0x80...0xB7: return (false, 1, Int(b - 0x80))
        case 0xC0...0xF7: return (true, 1, Int(b - 0xC0))
        default:
            let n = Int(b >= 0xF8 ? b - 0xF7 : b - 0xB7)
            guard buffer.count - start > n else { return nil }
            var len = 0
            for i in 1...n { len = len << 8 | Int(buffer[start + i]) }
            return (b >= 0xF8, 1 + n, len)
        }
    }

    public mutating func next() throws(FormatError) -> SourceItem? {
        while true {
            if done { return nil }
            let offset = base + Int64(start)
            if let wrapperEnd, offset >= wrapperEnd {
                done = true
                if offset > wrapperEnd { return .invalid(FormatError(.invalidRecord, path: input.path, offset: offset, "the last envelope runs past the end of the enclosing list")) }
                if try ensure(1) {
                    return .invalid(FormatError(.invalidRecord, path: input.path, offset: offset, "trailing bytes after the list of envelopes"))
                }
                return nil
            }
            guard try ensure(1) else { return nil }
            _ = try ensure(9)
            guard let (isList, hl, pl) = header() else {
                done = true
                return .invalid(FormatError(.invalidRecord, path: input.path, offset: offset, "truncated RLP header"))
            }
            if !checkedWrapper {
                checkedWrapper = true
                // One list whose first item is a list: a list of envelopes.
                if isList, try ensure(hl + 1), buffer[start + hl] >= 0xC0 {
                    wrapperEnd = offset + Int64(hl + pl)
                    start += hl
                    continue
                }
            }
            guard try ensure(hl + pl) else {
                done = true
                return .invalid(FormatError(.invalidRecord, path: input.path, offset: offset,
                                            "truncated: an item of \(hl + pl) bytes but only \(buffer.count - start) left in the file"))
            }
            let item = Array(buffer[start..<(start + hl + pl)])
            start += hl + pl
            guard isList else {
                return .invalid(FormatError(.invalidRecord, path: input.path, offset: offset, "expected an envelope (an RLP list), found a string"))
            }
            do {
                return .envelope(try Envelope(rlp: item), arrival: nil)
            } catch {
                return .invalid(FormatError(.invalidRecord, path: input.path, offset: offset + Int64(error.offset ?? 0), error.description))
            }
        }
    }
}
