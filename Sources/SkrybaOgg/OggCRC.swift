/// The Ogg page checksum (RFC 3533 §6): CRC-32 with polynomial 0x04C11DB7, initial value 0, no
/// bit reflection, no final XOR — not the zlib CRC-32.
public enum OggCRC {
    static let table: [UInt32] = (0..<256).map { byte -> UInt32 in
        var crc = UInt32(byte) << 24
        for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
        return crc
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            var crc = seed
            for byte in bytes { crc = (crc << 8) ^ table[Int((crc >> 24) ^ UInt32(byte))] }
            return crc
        }
    }
}
