import Crypto

/// Constants and derivations of the sealed-recording format, v1. docs/sealed-format.md is the
/// byte-for-byte specification; this file is its single implementation of the shared parts.
public enum SealedFormat {
    /// The first line of every sealed recording.
    public static let magicLine = Array("skryba-sealed-recording/v1\n".utf8)
    /// The random nonce after the age header, as in age.
    public static let nonceLength = 16
    /// length u32 ‖ flags u8 ‖ position u64 ‖ crc32c u32.
    public static let frameHeaderLength = 17
    /// The part of the frame header that is authenticated as AAD (length, flags, position).
    public static let authenticatedHeaderLength = 13
    public static let tagLength = 16
    /// A record holds at most this much ciphertext (a second of Opus is ~2 KB; this bounds damage
    /// from a corrupted length field).
    public static let maximumCiphertextLength = 16 * 1024 * 1024
    public static let finalFlag: UInt8 = 0x01

    static let recordKeyInfo = Array("skryba-sealed-recording/v1 records".utf8)

    /// The per-file record key: HKDF-SHA-256(file key, salt = nonce, info = "skryba-sealed-recording/v1 records").
    static func recordKey(fileKey: SymmetricKey, nonce: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: nonce, info: recordKeyInfo, outputByteCount: 32)
    }

    /// STREAM nonce: 11-byte big-endian record counter ‖ 0x01 on the final record, 0x00 otherwise.
    static func recordNonce(counter: UInt64, final: Bool) -> ChaChaPoly.Nonce { AgePayload.chunkNonce(counter: counter, final: final) }

    /// The 13 authenticated header bytes.
    static func authenticatedHeader(ciphertextLength: Int, flags: UInt8, position: UInt64) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(frameHeaderLength)
        appendLE(UInt32(ciphertextLength), &bytes)
        bytes.append(flags)
        appendLE(position, &bytes)
        return bytes
    }
}

@inline(__always)
func appendLE<Integer: FixedWidthInteger>(_ value: Integer, _ bytes: inout [UInt8]) {
    var value = value.littleEndian
    withUnsafeBytes(of: &value) { bytes.append(contentsOf: $0) }
}

@inline(__always)
func readLE<Integer: FixedWidthInteger>(_: Integer.Type, _ bytes: ArraySlice<UInt8>, at offset: Int) -> Integer {
    var value = Integer.zero
    for index in (0..<MemoryLayout<Integer>.size).reversed() { value = value << 8 | Integer(bytes[offset + index]) }
    return value
}
