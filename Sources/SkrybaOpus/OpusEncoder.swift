import COpus
import CSkrybaShims

/// Encoder settings for one line. Defaults chosen by measurement (docs/speech-quality.md).
public struct OpusSettings: Equatable, Sendable, Codable {
    public static let defaultBitrate = 14000
    public static let defaultComplexity = 5

    public var bitrate: Int
    public var complexity: Int

    public init(bitrate: Int = OpusSettings.defaultBitrate, complexity: Int = OpusSettings.defaultComplexity) {
        self.bitrate = bitrate
        self.complexity = complexity
    }

    /// Problems a technician can fix, one sentence each; empty when the settings are usable.
    public var problems: [String] {
        var problems: [String] = []
        if !(6000...64000).contains(bitrate) { problems.append("bitrate \(bitrate) bit/s is outside 6000...64000 (speech needs at least 6000)") }
        if !(0...10).contains(complexity) { problems.append("complexity \(complexity) is outside 0...10") }
        return problems
    }
}

/// A mono libopus encoder for speech at the line's native rate (8 or 16 kHz), one 20 ms frame per
/// call. Owns the `OpusEncoder*`.
public final class OpusEncoder: @unchecked Sendable {
    public let sampleRate: Int
    public let settings: OpusSettings
    /// Samples the encoder delays its output by, at `sampleRate` (OPUS_GET_LOOKAHEAD).
    public let lookahead: Int
    /// Samples in one 20 ms frame at `sampleRate`.
    public var frameSamples: Int { sampleRate / 50 }
    /// The largest packet libopus can produce for one frame (RFC 6716 §3.4).
    public static let maximumPacketBytes = 1275

    let handle: OpaquePointer

    public init(sampleRate: Int, settings: OpusSettings) throws(OpusError) {
        var status: Int32 = OPUS_OK
        guard let handle = opus_encoder_create(Int32(sampleRate), 1, OPUS_APPLICATION_VOIP, &status), status == OPUS_OK else {
            throw OpusError(function: "opus_encoder_create", code: status == OPUS_OK ? OPUS_ALLOC_FAIL : status)
        }
        self.handle = handle
        self.sampleRate = sampleRate
        self.settings = settings
        do {
            try check(skryba_opus_set_bitrate(handle, Int32(settings.bitrate)), "opus_encoder_ctl(OPUS_SET_BITRATE)")
            try check(skryba_opus_set_complexity(handle, Int32(settings.complexity)), "opus_encoder_ctl(OPUS_SET_COMPLEXITY)")
            try check(skryba_opus_set_signal_voice(handle), "opus_encoder_ctl(OPUS_SET_SIGNAL)")
            try check(skryba_opus_set_vbr(handle, 1), "opus_encoder_ctl(OPUS_SET_VBR)")
            var lookahead: Int32 = 0
            try check(skryba_opus_get_lookahead(handle, &lookahead), "opus_encoder_ctl(OPUS_GET_LOOKAHEAD)")
            self.lookahead = Int(lookahead)
        } catch {
            opus_encoder_destroy(handle)
            throw error
        }
    }

    deinit { opus_encoder_destroy(handle) }

    /// Encodes one 20 ms frame (`frameSamples` samples) into `packet`; returns the packet's length.
    @inline(__always)
    public func encode(frame: UnsafePointer<Int16>, into packet: UnsafeMutableRawBufferPointer) throws(OpusError) -> Int {
        let length = opus_encode(handle, frame, Int32(frameSamples), packet.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                 Int32(packet.count))
        if length < 0 { throw OpusError(function: "opus_encode", code: length) }
        return Int(length)
    }

    /// libopus's version string, e.g. "libopus 1.3.1" (goes into the Ogg vendor string).
    public static var libraryVersion: String { String(cString: opus_get_version_string()) }
}

/// A mono libopus decoder (IT's tool and tests: decoded audio is compared with what was captured).
public final class OpusDecoder: @unchecked Sendable {
    public let sampleRate: Int
    let handle: OpaquePointer

    public init(sampleRate: Int) throws(OpusError) {
        var status: Int32 = OPUS_OK
        guard let handle = opus_decoder_create(Int32(sampleRate), 1, &status), status == OPUS_OK else {
            throw OpusError(function: "opus_decoder_create", code: status == OPUS_OK ? OPUS_ALLOC_FAIL : status)
        }
        self.handle = handle
        self.sampleRate = sampleRate
    }

    deinit { opus_decoder_destroy(handle) }

    /// Decodes one packet; returns the samples it produced (appended to `output`).
    public func decode(packet: [UInt8], into output: inout [Int16]) throws(OpusError) {
        let maximum = sampleRate * 120 / 1000
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: maximum))
        let decoded = output.withUnsafeMutableBufferPointer { buffer in
            packet.withUnsafeBufferPointer { bytes in
                opus_decode(handle, bytes.baseAddress, Int32(bytes.count), buffer.baseAddress! + start, Int32(maximum), 0)
            }
        }
        if decoded < 0 {
            output.removeLast(maximum)
            throw OpusError(function: "opus_decode", code: decoded)
        }
        output.removeLast(maximum - Int(decoded))
    }
}
