import Whisper

/// Range-based set reconciliation (RBSR) of two mailservers' envelope keys over a sync window, as pure values: no
/// I/O, no clock. The wire format is docs/SYNC.md's `wasync/1`.
///
/// Keys are the 36-byte cursors of the envelopes (sent time ‖ hash), in the archive's key order. A range is
/// half-open, `[start, end)`, either end open (nil). Its summary is the count of keys in it and their fingerprint,
/// the XOR of their hashes. The initiator sends the summaries of ranges; the responder answers each with
/// ``Item/equal`` when its own summary matches, with ``Item/keys`` (its keys in the range) when it holds few, and
/// otherwise with ``Item/split`` (the summaries of `fanOut` sub-ranges of its own keys). The initiator compares:
/// from a key list it learns what it lacks (to ask for) and what the responder lacks (to push); the sub-ranges whose
/// summaries differ from its own go into the next round. Each round divides the responder's keys in a differing
/// range by `fanOut`, so `log(fanOut)` of the window's size bounds the rounds, and only keys near a difference
/// cross the wire.
public enum RangeReconciliation {
    /// Keys of one range summarised: count and XOR of hashes.
    public struct Summary: Sendable, Equatable {
        public var start: Cursor?
        public var end: Cursor?
        public var count: Int
        /// ``RangeReconciliation/fingerprintLength`` bytes.
        public var fingerprint: [UInt8]

        public init(start: Cursor?, end: Cursor?, count: Int, fingerprint: [UInt8]) {
            self.start = start
            self.end = end
            self.count = count
            self.fingerprint = fingerprint
        }

        /// True when `other` covers the same range with the same keys (as far as count and XOR tell).
        func matches(_ other: Summary) -> Bool { count == other.count && fingerprint == other.fingerprint }
    }

    /// The responder's answer for one range.
    public enum Item: Sendable, Equatable {
        /// The same keys on both sides.
        case equal(start: Cursor?, end: Cursor?)
        /// Every key the responder holds in the range.
        case keys(start: Cursor?, end: Cursor?, [Cursor])
        /// Sub-ranges covering the range, with the responder's summaries.
        case split([Summary])
    }

    /// The limits both sides keep to (and hold a peer to).
    public struct Limits: Sendable {
        /// A range with at most this many of the responder's keys is answered with its keys.
        public var keysPerRange = 16
        /// Sub-ranges of a split.
        public var fanOut = 16
        /// Ranges in one request (a round with more goes out as several requests).
        public var rangesPerRequest = 8192
        /// Keys in one answer: every range of a request answered with its keys.
        public var keysPerAnswer: Int { rangesPerRequest * keysPerRange }
        /// Rounds in one reconciliation.
        public var rounds = 16

        public init() {}
    }

    /// One side's keys in the window: sorted, unique, with prefix XORs so that any range's summary costs two binary
    /// searches.
    public struct KeySet: Sendable {
        public let keys: [Cursor]
        /// 32 bytes per key plus 32: `prefix[32 i ..< 32 (i + 1)]` is the XOR of the hashes of `keys[..<i]`.
        let prefix: [UInt8]

        /// `keys` in any order; duplicates count once.
        public init<S: Sequence>(_ keys: S) where S.Element == Cursor {
            let sorted = Array(Set(keys)).sorted()
            self.keys = sorted
            var prefix = [UInt8](repeating: 0, count: 32 * (sorted.count + 1))
            for (i, k) in sorted.enumerated() {
                for b in 0..<32 { prefix[32 * (i + 1) + b] = prefix[32 * i + b] ^ k.bytes[4 + b] }
            }
            self.prefix = prefix
        }

        /// The first index whose key is ≥ `bound` (`keys.count` for an open end).
        func index(of bound: Cursor?, open: Int) -> Int {
            guard let bound else { return open }
            var lo = 0
            var hi = keys.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if keys[mid] < bound { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }

        /// The indices of `[start, end)`.
        func indices(_ start: Cursor?, _ end: Cursor?) -> Range<Int> {
            let lo = index(of: start, open: 0)
            let hi = max(lo, index(of: end, open: keys.count))
            return lo..<hi
        }

        /// The fingerprint: the first ``RangeReconciliation/fingerprintLength`` bytes of the XOR of the hashes.
        func xor(_ r: Range<Int>) -> [UInt8] {
            (0..<RangeReconciliation.fingerprintLength).map { prefix[32 * r.upperBound + $0] ^ prefix[32 * r.lowerBound + $0] }
        }

        /// The summary of `[start, end)`.
        public func summary(_ start: Cursor?, _ end: Cursor?) -> Summary {
            let r = indices(start, end)
            return Summary(start: start, end: end, count: r.count, fingerprint: xor(r))
        }

        /// The keys in `[start, end)`.
        public func keys(_ start: Cursor?, _ end: Cursor?) -> ArraySlice<Cursor> { keys[indices(start, end)] }

        /// `[start, end)` cut into up to `parts` sub-ranges holding equal shares of this side's keys.
        func split(_ start: Cursor?, _ end: Cursor?, parts: Int) -> [Summary] {
            let r = indices(start, end)
            let n = min(parts, r.count)
            guard n > 1 else { return [summary(start, end)] }
            var bounds: [Cursor?] = [start]
            for j in 1..<n {
                let i = r.lowerBound + j * r.count / n
                bounds.append(RangeReconciliation.shortBound(after: keys[i - 1], upTo: keys[i]))
            }
            bounds.append(end)
            return (0..<n).map { summary(bounds[$0], bounds[$0 + 1]) }
        }
    }

    /// Bytes of a fingerprint: the XOR of the hashes, cut to 16 bytes (the partners trust each other; a collision
    /// by chance is 2⁻¹²⁸).
    public static let fingerprintLength = 16

    /// The bound between two neighbouring keys with the fewest significant bytes: `high`'s bytes up to the first
    /// that differs from `low`, then zeros. It lies in `(low, high]`, and on the wire, without its trailing zeros,
    /// it takes a few bytes instead of 36.
    static func shortBound(after low: Cursor, upTo high: Cursor) -> Cursor {
        var d = 0
        while d < Cursor.length - 1 && low.bytes[d] == high.bytes[d] { d += 1 }
        return Cursor(trusted: Array(high.bytes[...d]) + [UInt8](repeating: 0, count: Cursor.length - 1 - d))
    }

    /// The first round's request: the whole window as one range.
    public static func opening(_ mine: KeySet) -> [Summary] { [mine.summary(nil, nil)] }

    /// The responder's answer to a round.
    public static func answer(_ ranges: [Summary], with mine: KeySet, limits: Limits = Limits()) -> [Item] {
        ranges.map { theirs in
            let own = mine.summary(theirs.start, theirs.end)
            if own.matches(theirs) { return .equal(start: theirs.start, end: theirs.end) }
            if own.count <= limits.keysPerRange { return .keys(start: theirs.start, end: theirs.end, Array(mine.keys(theirs.start, theirs.end))) }
            return .split(mine.split(theirs.start, theirs.end, parts: limits.fanOut))
        }
    }

    /// What the initiator learns from an answer.
    public struct Step: Sendable, Equatable {
        /// Keys the responder has and we lack: ask for them.
        public var want: [Cursor] = []
        /// Keys we have and the responder lacks: push them.
        public var push: [Cursor] = []
        /// Ranges still differing: the next round's request (empty: done).
        public var next: [Summary] = []
    }

    /// The initiator's step: compares each item with its own keys.
    public static func step(_ items: [Item], with mine: KeySet) -> Step {
        var step = Step()
        for item in items {
            switch item {
            case .equal:
                continue
            case .keys(let start, let end, let theirs):
                let own = mine.keys(start, end)
                let theirSet = Set(theirs)
                let ownSet = Set(own)
                step.want += theirs.filter { !ownSet.contains($0) }
                step.push += own.filter { !theirSet.contains($0) }
            case .split(let parts):
                for theirs in parts {
                    let own = mine.summary(theirs.start, theirs.end)
                    if !own.matches(theirs) { step.next.append(own) }
                }
            }
        }
        return step
    }

    /// Why a peer's round breaks the limits or the shape (ranges out of order or overlapping, a fingerprint that
    /// is not 32 bytes, a split that does not cover its range): nil when it is well formed. A peer that sends one
    /// is dropped.
    public static func violation(ofRequest ranges: [Summary], limits: Limits = Limits()) -> String? {
        if ranges.isEmpty { return "no ranges" }
        if ranges.count > limits.rangesPerRequest { return "\(ranges.count) ranges in one request (at most \(limits.rangesPerRequest))" }
        var previousEnd: Cursor?? = .none
        for r in ranges {
            if r.fingerprint.count != fingerprintLength { return "a fingerprint of \(r.fingerprint.count) bytes" }
            if r.count < 0 { return "a negative count" }
            if let s = r.start, let e = r.end, !(s < e) { return "an empty or backwards range" }
            if case .some(let end) = previousEnd {
                guard let end, let start = r.start, end <= start else { return "ranges out of order or overlapping" }
            }
            previousEnd = .some(r.end)
        }
        return nil
    }

    /// As ``violation(ofRequest:limits:)`` for an answer to `request`: one item per range asked, each about that
    /// range, keys inside it and in order, splits covering it.
    public static func violation(ofAnswer items: [Item], to request: [Summary], limits: Limits = Limits()) -> String? {
        guard items.count == request.count else { return "\(items.count) answers to \(request.count) ranges" }
        var keys = 0
        for (item, asked) in zip(items, request) {
            switch item {
            case .equal(let start, let end):
                if start != asked.start || end != asked.end { return "an answer about another range" }
            case .keys(let start, let end, let list):
                if start != asked.start || end != asked.end { return "an answer about another range" }
                keys += list.count
                if keys > limits.keysPerAnswer { return "more than \(limits.keysPerAnswer) keys in one answer" }
                for (a, b) in zip(list, list.dropFirst()) where !(a < b) { return "keys out of order" }
                if let first = list.first, let s = start, first < s { return "a key before its range" }
                if let last = list.last, let e = end, !(last < e) { return "a key after its range" }
            case .split(let parts):
                if parts.count < 2 || parts.count > limits.fanOut { return "a split into \(parts.count) ranges" }
                if parts.first?.start != asked.start || parts.last?.end != asked.end { return "a split that does not cover its range" }
                for (a, b) in zip(parts, parts.dropFirst()) where a.end == nil || a.end != b.start { return "a split with gaps" }
                if let why = violation(ofRequest: parts, limits: limits) { return why }
                if parts.contains(where: { $0.count > asked.count + limits.keysPerAnswer }) { return "a claimed count out of all proportion" }
            }
        }
        return nil
    }
}
