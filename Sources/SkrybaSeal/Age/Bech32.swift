/// Bech32 (BIP 173) as age uses it for keys: no length limit, one case throughout, checksum over
/// the lowercase form.
enum Bech32 {
    static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, character) in charset.enumerated() { table[Int(character)] = Int8(index) }
        return table
    }()

    enum DecodeError: Error, Equatable {
        case mixedCase, noSeparator, invalidCharacter, badChecksum, badPadding
    }

    static func polymod(_ values: [UInt8]) -> UInt32 {
        let generators: [UInt32] = [0x3B6A_57B2, 0x2650_8E6D, 0x1EA1_19FA, 0x3D42_33DD, 0x2A14_62B3]
        var checksum: UInt32 = 1
        for value in values {
            let top = checksum >> 25
            checksum = (checksum & 0x1FF_FFFF) << 5 ^ UInt32(value)
            for index in 0..<5 where (top >> UInt32(index)) & 1 == 1 { checksum ^= generators[index] }
        }
        return checksum
    }

    static func expand(_ hrp: [UInt8]) -> [UInt8] { hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 } }

    /// Regroups bits (8 → 5 to encode, 5 → 8 to decode).
    static func regroup(_ data: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator = 0, bits = 0
        var output: [UInt8] = []
        let mask = (1 << to) - 1
        for value in data {
            accumulator = accumulator << from | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                output.append(UInt8(accumulator >> bits & mask))
            }
        }
        if pad {
            if bits > 0 { output.append(UInt8(accumulator << (to - bits) & mask)) }
        } else if bits >= from || (accumulator << (to - bits)) & mask != 0 {
            return nil
        }
        return output
    }

    /// Encodes `data` under the human-readable part `hrp` (lowercase output).
    static func encode(hrp: String, data: [UInt8]) -> String {
        let hrpBytes = Array(hrp.lowercased().utf8)
        let words = regroup(data, from: 8, to: 5, pad: true)!
        let checksum = polymod(expand(hrpBytes) + words + [0, 0, 0, 0, 0, 0]) ^ 1
        let checksumWords = (0..<6).map { UInt8(checksum >> UInt32(5 * (5 - $0)) & 31) }
        return String(decoding: hrpBytes + [UInt8(ascii: "1")] + (words + checksumWords).map { charset[Int($0)] }, as: UTF8.self)
    }

    /// Decodes a Bech32 string into its lowercase human-readable part and data bytes.
    static func decode(_ text: String) throws(DecodeError) -> (hrp: String, data: [UInt8]) {
        let bytes = Array(text.utf8)
        let hasLower = bytes.contains { (0x61...0x7A).contains($0) }
        let hasUpper = bytes.contains { (0x41...0x5A).contains($0) }
        guard !(hasLower && hasUpper) else { throw .mixedCase }
        let lower = bytes.map { (0x41...0x5A).contains($0) ? $0 + 32 : $0 }
        guard let separator = lower.lastIndex(of: UInt8(ascii: "1")), separator >= 1, lower.count - separator > 6 else {
            throw .noSeparator
        }
        let hrp = Array(lower[..<separator])
        guard hrp.allSatisfy({ (33...126).contains($0) }) else { throw .invalidCharacter }
        var words: [UInt8] = []
        for character in lower[(separator + 1)...] {
            guard character < 128, values[Int(character)] >= 0 else { throw .invalidCharacter }
            words.append(UInt8(values[Int(character)]))
        }
        guard polymod(expand(hrp) + words) == 1 else { throw .badChecksum }
        guard let data = regroup(Array(words.dropLast(6)), from: 5, to: 8, pad: false) else { throw .badPadding }
        return (String(decoding: hrp, as: UTF8.self), data)
    }
}
