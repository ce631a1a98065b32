import CALSA
import CSkrybaShims

/// A failed alsa-lib call: which function, on which PCM, with alsa-lib's (negative errno) code.
public struct ALSAError: Error, Equatable, CustomStringConvertible {
    public let function: String
    public let code: Int32
    public let pcmName: String
    /// What Skryba was trying to do, in the technician's terms (e.g. "set the sample rate to 16000 Hz").
    public let context: String

    /// What alsa-lib itself said, if anything (e.g. "Unknown PCM nosuch").
    public let detail: String

    public init(function: String, code: Int32, pcmName: String, context: String, detail: String = "") {
        self.function = function
        self.code = code
        self.pcmName = pcmName
        self.context = context
        self.detail = detail
    }

    public var message: String { String(cString: snd_strerror(code)) }

    public var description: String {
        "ALSA PCM '\(pcmName)': cannot \(context): \(function) failed: \(message) (\(code))"
            + (detail.isEmpty ? "" : "; alsa-lib says: \(detail)")
    }
}

@inline(__always)
func check(_ code: Int32, _ function: String, _ pcmName: String, _ context: @autoclosure () -> String) throws(ALSAError) {
    if code < 0 { throw ALSAError(function: function, code: code, pcmName: pcmName, context: context(), detail: takeLastALSAMessage()) }
}

/// Routes alsa-lib's stderr diagnostics into Skryba's errors. Called once before the first open.
let installALSAErrorCapture: Void = skryba_alsa_capture_errors()

func takeLastALSAMessage() -> String {
    var buffer = [CChar](repeating: 0, count: 512)
    skryba_alsa_take_last_error(&buffer, Int32(buffer.count))
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
