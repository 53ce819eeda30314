import Foundation

/// Wall-clock seconds taken by `body`.
func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The median of `runs` measurements.
func median(_ runs: Int, _ measure: () -> Double) -> Double {
    let values = (0..<runs).map { _ in measure() }.sorted()
    return values[values.count / 2]
}

/// Keeps a computed value alive so the optimiser cannot drop the work.
@inline(never)
func blackHole(_ value: UInt8) {
    if value == 0xFF && ProcessInfo.processInfo.environment["WA_NEVER"] != nil { print(value) }
}
