import FuzzHarness

/// libFuzzer's entry point: Message.open (MessageFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    MessageFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
