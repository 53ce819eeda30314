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

    /// The header at `start`.
    private enum Header {
        /// An item: whether it is a list, the header's length and the payload's.
        case item(isList: Bool, headerLength: Int, payloadLength: Int)
        /// The file ends inside the header.
        case truncated
        /// A declared payload length no file can hold (the stream's offsets are 63-bit).
        case tooLarge(UInt64)
    }

    /// Parses the header at `start`; the length is untrusted, so it is read as a 64-bit number and bounded.
    private func header() -> Header {
        let b = buffer[start]
        switch b {
        case 0x00...0x7F: return .item(isList: false, headerLength: 0, payloadLength: 1)
        case 0x80...0xB7: return .item(isList: false, headerLength: 1, payloadLength: Int(b - 0x80))
        case 0xC0...0xF7: return .item(isList: true, headerLength: 1, payloadLength: Int(b - 0xC0))
        default:
            let n = Int(b >= 0xF8 ? b - 0xF7 : b - 0xB7)
            guard buffer.count - start > n else { return .truncated }
            var len: UInt64 = 0
            for i in 1...n { len = len << 8 | UInt64(buffer[start + i]) }
            // Anything past Int64.max minus the header and the offset so far cannot be in a file.
            guard len <= UInt64(Int64.max - base - Int64(start) - Int64(1 + n)) else { return .tooLarge(len) }
            return .item(isList: b >= 0xF8, headerLength: 1 + n, payloadLength: Int(len))
        }
    }

    public mutating func next() throws(FormatError) -> SourceItem? {
        while true {
            if done { return nil }
            let offset = base + Int64(start)
            if let wrapperEnd, offset >= wrapperEnd {
                done = true
                if offset > wrapperEnd {
                    return .invalid(
                        FormatError(.invalidRecord, path: input.path, offset: offset, "the last envelope runs past the end of the enclosing list")
                    )
                }
                if try ensure(1) {
                    return .invalid(FormatError(.invalidRecord, path: input.path, offset: offset, "trailing bytes after the list of envelopes"))
                }
                return nil
            }
            guard try ensure(1) else { return nil }
            _ = try ensure(9)
            let isList: Bool
            let hl: Int
            let pl: Int
            switch header() {
            case .item(let l, let h, let p):
                (isList, hl, pl) = (l, h, p)
            case .truncated:
                done = true
                return .invalid(FormatError(.invalidRecord, path: input.path, offset: offset, "truncated RLP header"))
            case .tooLarge(let len):
                done = true
                return .invalid(
                    FormatError(
                        .invalidRecord,
                        path: input.path,
                        offset: offset,
                        "an item declares \(len) bytes, more than any file can hold"
                    )
                )
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
                return .invalid(
                    FormatError(
                        .invalidRecord,
                        path: input.path,
                        offset: offset,
                        "truncated: an item of \(hl + pl) bytes but only \(buffer.count - start) left in the file"
                    )
                )
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
