import FuzzHarness

/// libFuzzer's entry point: the LevelDB source (LevelDBFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    LevelDBFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
