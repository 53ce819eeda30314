/// The share of a long maintenance run done so far, for a progress line: `done` of `total` units (bytes of
/// segment read, say), reported to `report` as the run goes. Not thread-safe: one run, on one thread, owns it.
public final class WorkProgress: @unchecked Sendable {
    /// Called with (done, total) after each step.
    public typealias Report = (_ done: Int64, _ total: Int64) -> Void

    let report: Report?
    var total: Int64 = 0
    var base: Int64 = 0

    init(_ report: Report?) { self.report = report }

    /// The work starts over with `total` units.
    func start(total: Int64) {
        self.total = total
        base = 0
    }

    /// Reports `offset` units into the current part.
    func at(_ offset: Int64) { report?(min(base + offset, total), total) }

    /// The current part (of `length` units) is done; the next starts after it.
    func finishPart(_ length: Int64) {
        base += length
        report?(min(base, total), total)
    }
}
