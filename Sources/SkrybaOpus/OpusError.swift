import COpus

/// A failed libopus call: the function and libopus's error code (OPUS_BAD_ARG, …).
public struct OpusError: Error, Equatable, CustomStringConvertible {
    public let function: String
    public let code: Int32

    public init(function: String, code: Int32) {
        self.function = function
        self.code = code
    }

    public var description: String { "libopus \(function) failed: \(String(cString: opus_strerror(code))) (\(code))" }
}

@inline(__always)
func check(_ code: Int32, _ function: String) throws(OpusError) {
    if code != OPUS_OK { throw OpusError(function: function, code: code) }
}
