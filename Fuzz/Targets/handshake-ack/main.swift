import FuzzHarness

/// libFuzzer's entry point: RLPx ack packets (HandshakeAckFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    HandshakeAckFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
