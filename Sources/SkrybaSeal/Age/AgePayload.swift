import Crypto
import Foundation

/// The standard age payload (c2sp.org/age "Payload"): a 16-byte nonce, then 64 KiB chunks sealed
/// with ChaCha20-Poly1305 under HKDF(file key, nonce, "payload"), nonce = 11-byte big-endian counter
/// ‖ final flag. Used to write files stock `age -d` opens and to open files `age` wrote.
public enum AgePayload {
    public static let chunkSize = 64 * 1024

    static func payloadKey(fileKey: SymmetricKey, nonce: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: nonce, info: Array("payload".utf8), outputByteCount: 32)
    }

    /// The 12-byte STREAM nonce: counter (big endian, 11 bytes) ‖ 0x01 for the last chunk.
    static func chunkNonce(counter: UInt64, final: Bool) -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 { bytes[10 - index] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(index))) }
        bytes[11] = final ? 1 : 0
        return try! ChaChaPoly.Nonce(data: bytes)
    }

    /// A whole standard age file for `plaintext`.
    public static func encryptFile(_ plaintext: [UInt8], to recipients: [AgeRecipient]) throws -> [UInt8] {
        let fileKey = SymmetricKey(size: .bits128)
        var output = try AgeHeader.seal(fileKey: fileKey, to: recipients).encoded
        var nonce = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = generator.next() }
        output += nonce
        let key = payloadKey(fileKey: fileKey, nonce: nonce)
        var offset = 0, counter: UInt64 = 0
        repeat {
            let end = min(offset + chunkSize, plaintext.count)
            let final = end == plaintext.count
            let box = try ChaChaPoly.seal(plaintext[offset..<end], using: key, nonce: chunkNonce(counter: counter, final: final))
            output += box.ciphertext + box.tag
            offset = end
            counter += 1
        } while offset < plaintext.count
        return output
    }

    /// Decrypts a standard age payload (the bytes after the header).
    public static func decrypt(_ payload: ArraySlice<UInt8>, fileKey: SymmetricKey) throws(AgePayloadError) -> [UInt8] {
        guard payload.count >= 16 + 16 else { throw .truncated }
        let key = payloadKey(fileKey: fileKey, nonce: Array(payload.prefix(16)))
        var offset = payload.startIndex + 16
        var plaintext: [UInt8] = []
        var counter: UInt64 = 0
        while true {
            let remaining = payload.endIndex - offset
            let length = min(chunkSize + 16, remaining)
            guard length >= 16 else { throw .truncated }
            let final = length == remaining
            let chunk = payload[offset..<offset + length]
            guard let box = try? ChaChaPoly.SealedBox(nonce: chunkNonce(counter: counter, final: final),
                                                      ciphertext: chunk.dropLast(16), tag: chunk.suffix(16)),
                  let opened = try? ChaChaPoly.open(box, using: key) else {
                throw final ? .finalChunkInvalid(chunk: counter) : .chunkInvalid(chunk: counter)
            }
            if final && opened.isEmpty && counter > 0 { throw .emptyFinalChunk }
            plaintext += opened
            if final { return plaintext }
            offset += length
            counter += 1
        }
    }
}

public enum AgePayloadError: Error, Equatable, CustomStringConvertible {
    case truncated
    case chunkInvalid(chunk: UInt64)
    case finalChunkInvalid(chunk: UInt64)
    case emptyFinalChunk

    public var description: String {
        switch self {
        case .truncated: "the age payload is cut short"
        case .chunkInvalid(let chunk): "age payload chunk \(chunk) fails authentication (altered or reordered)"
        case .finalChunkInvalid(let chunk): "age payload chunk \(chunk) is not a valid final chunk (the file was truncated or altered)"
        case .emptyFinalChunk: "the age payload ends with an empty final chunk (not allowed by the spec)"
        }
    }
}
