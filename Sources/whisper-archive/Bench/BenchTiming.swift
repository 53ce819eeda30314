import EthCrypto
import Foundation

/// Wall-clock seconds taken by `body`.
func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The median of `values` (the upper one of an even count); `values` is not empty.
func median(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}

/// The median of `runs` measurements.
func median(_ runs: Int, _ measure: () -> Double) -> Double {
    median((0..<runs).map { _ in measure() })
}

/// Keccak-256 MB/s on this thread: `block` hashed `rounds` times, the yardstick the benches quote beside their figures.
func keccak256MBps(_ block: [UInt8], rounds: Int) -> Double {
    var sink: UInt8 = 0
    let t = seconds { for _ in 0..<rounds { sink &+= Keccak256.hash(block)[0] } }
    blackHole(sink)
    return Double(rounds * block.count) / t / 1e6
}

/// Keeps a computed value alive so the optimiser cannot drop the work.
@inline(never)
func blackHole(_ value: UInt8) {
    if value == 0xFF && ProcessInfo.processInfo.environment["WA_NEVER"] != nil { print(value) }
}
