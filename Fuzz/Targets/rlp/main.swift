import FuzzHarness

/// libFuzzer's entry point: strict RLP decoding (RLPFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    RLPFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
