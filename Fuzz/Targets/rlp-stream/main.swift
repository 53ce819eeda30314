import FuzzHarness

/// libFuzzer's entry point: the rlp stream reader (RLPStreamFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    RLPStreamFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
