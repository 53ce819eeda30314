import Whisper

/// Which envelopes a query or scan selects: a sent-time range and a topic selection.
public struct EnvelopeFilter: Sendable, Hashable {
    /// The topic part of a filter.
    public enum Topics: Sendable, Hashable {
        /// Every topic.
        case all
        /// Exactly these topics (an empty list selects nothing).
        case list([Topic])
        /// Topics whose bloom is covered by this bloom (a full bloom selects every topic).
        case bloom(Bloom)
    }

    /// Earliest sent time, Unix seconds, inclusive.
    public var from: UInt32
    /// Latest sent time, Unix seconds, inclusive.
    public var to: UInt32
    /// The topic selection.
    public var topics: Topics

    /// A filter; by default everything.
    public init(from: UInt32 = 0, to: UInt32 = .max, topics: Topics = .all) {
        self.from = from
        self.to = to
        self.topics = topics
    }

    /// Everything.
    public static let all = EnvelopeFilter()

    /// True when an envelope with this sent time and topic is selected.
    public func matches(sentTime: UInt32, topic: Topic) -> Bool {
        guard sentTime >= from && sentTime <= to else { return false }
        switch topics {
        case .all: return true
        case .list(let l): return l.contains(topic)
        case .bloom(let b): return b.matches(topic.bloom)
        }
    }
}
