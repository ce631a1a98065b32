/// The two header packets of an Ogg Opus stream (RFC 7845 §5).
public enum OpusHeaders {
    /// Identification header, mono, channel mapping family 0.
    /// - Parameters:
    ///   - preSkip: samples at 48 kHz to discard at the start (the encoder's lookahead, scaled).
    ///   - inputSampleRate: the rate the audio was captured at (informational for players).
    public static func identification(preSkip: Int, inputSampleRate: Int) -> [UInt8] {
        var packet = Array("OpusHead".utf8)
        packet.append(1)  // version
        packet.append(1)  // channels
        appendLittleEndian(UInt16(preSkip), to: &packet)
        appendLittleEndian(UInt32(inputSampleRate), to: &packet)
        appendLittleEndian(Int16(0), to: &packet)  // output gain
        packet.append(0)  // mapping family 0: mono or stereo, no table
        return packet
    }

    /// Comment header: vendor string and `KEY=value` comments (keys are ASCII, case-insensitive).
    public static func comments(vendor: String, _ comments: [(key: String, value: String)]) -> [UInt8] {
        var packet = Array("OpusTags".utf8)
        let vendorBytes = Array(vendor.utf8)
        appendLittleEndian(UInt32(vendorBytes.count), to: &packet)
        packet += vendorBytes
        appendLittleEndian(UInt32(comments.count), to: &packet)
        for (key, value) in comments {
            precondition(!key.isEmpty && key.utf8.allSatisfy { (0x20...0x7D).contains($0) && $0 != 0x3D }, "invalid comment key \(key)")
            let entry = Array("\(key)=\(value)".utf8)
            appendLittleEndian(UInt32(entry.count), to: &packet)
            packet += entry
        }
        return packet
    }
}
