import Foundation

/// A binary min-heap over byte-string keys, used to merge per-topic ordered ranges.
struct MergeHeap {
    private var keys: [[UInt8]]
    /// Heap of indices into `keys`.
    private var heap: [Int]

    init(keys: [[UInt8]]) {
        self.keys = keys
        heap = Array(keys.indices)
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    /// The source index holding the smallest key.
    var minIndex: Int? { heap.first }

    mutating func replaceMin(with key: [UInt8]) {
        keys[heap[0]] = key
        siftDown(0)
    }

    mutating func removeMin() {
        heap[0] = heap[heap.count - 1]
        heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        keys[heap[a]].withUnsafeBytes { x in
            keys[heap[b]].withUnsafeBytes { y in
                let n = min(x.count, y.count)
                let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                return c < 0 || (c == 0 && x.count < y.count)
            }
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < heap.count && less(l, m) { m = l }
            if r < heap.count && less(r, m) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}
