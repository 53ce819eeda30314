import FuzzHarness

/// libFuzzer's entry point: the sqlite source (SQLiteFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    SQLiteFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
