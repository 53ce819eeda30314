import FuzzHarness

/// libFuzzer's entry point: the p2p session's dispatch (P2PFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    P2PFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
