/// Finds whole record frames at unknown offsets in linear time (docs/sealed-format.md, "Reading
/// rules"). Checking every candidate offset's CRC directly costs the candidate's length each time,
/// which is quadratic on a file full of plausible-looking headers. Instead the CRC-32C register of
/// every prefix is carried along once, and each candidate's checksum is derived from the registers
/// at its start and end with CRC arithmetic (the register is linear over GF(2); processing n zero
/// bytes multiplies it by x^8n modulo the polynomial, and x is invertible). Candidates wait in a
/// heap until the sweep reaches their end.
enum FrameSearch {
    /// A frame whose header is plausible, which lies inside the file and whose CRC matches.
    struct Found: Equatable {
        var offset: Int
        var end: Int
    }

    /// The whole frame that ends first among those starting after `offset`, or nil. `work` counts the
    /// bytes the checksum arithmetic touched (tests use it to prove the search is linear).
    static func firstWholeFrame(in bytes: [UInt8], after offset: Int, work: inout Int) -> Found? {
        let header = SealedFormat.frameHeaderLength
        let origin = offset + 1
        guard origin + header <= bytes.count else { return nil }
        var pending = CandidateHeap()
        var register: UInt32 = 0  // CRC register over bytes[origin..<position], started at 0, no final inversion
        var inverse: UInt32 = CRCArithmetic.one  // x^(-8 (position - origin))
        var position = origin
        return bytes.withUnsafeBufferPointer { bytes -> Found? in
            while true {
                while let due = pending.minimum, due.end == position {
                    pending.removeMinimum()
                    if CRCArithmetic.multiply(due.expected ^ register, inverse) == due.normalizedStart {
                        return Found(offset: due.offset, end: due.end)
                    }
                }
                let candidate = position - header
                if candidate >= origin, let waiting = Self.candidate(bytes, at: candidate, register: register, inverse: inverse, work: &work) {
                    pending.insert(waiting)
                }
                guard position < bytes.count else { return nil }
                let byte = bytes[position]
                register = CRC32C.table[Int((register ^ UInt32(byte)) & 0xFF)] ^ (register >> 8)
                inverse = CRCArithmetic.divideByX8(inverse)
                work += 1
                position += 1
            }
        }
    }

    /// A plausible header at `offset` (its body starts at the sweep position): what its CRC must
    /// satisfy when the sweep reaches its end.
    private static func candidate(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, register: UInt32, inverse: UInt32,
                                  work: inout Int) -> Candidate? {
        let flags = bytes[offset + 4]
        guard flags & ~SealedFormat.finalFlag == 0 else { return nil }
        var length = 0
        for index in (0..<4).reversed() { length = length << 8 | Int(bytes[offset + index]) }
        let bodyStart = offset + SealedFormat.frameHeaderLength
        guard length >= SealedFormat.tagLength, length <= SealedFormat.maximumCiphertextLength, length <= bytes.count - bodyStart else {
            return nil
        }
        var headerRegister: UInt32 = 0xFFFF_FFFF
        for byte in bytes[offset..<offset + SealedFormat.authenticatedHeaderLength] {
            headerRegister = CRC32C.table[Int((headerRegister ^ UInt32(byte)) & 0xFF)] ^ (headerRegister >> 8)
        }
        work += SealedFormat.authenticatedHeaderLength
        var stored: UInt32 = 0
        for index in (0..<4).reversed() { stored = stored << 8 | UInt32(bytes[offset + 13 + index]) }
        // Whole when (headerRegister ⊕ Q(start)) · x^8L == ~stored ⊕ Q(end); both sides scaled by x^-8(end−origin).
        return Candidate(offset: offset, end: bodyStart + length, expected: ~stored,
                         normalizedStart: CRCArithmetic.multiply(headerRegister ^ register, inverse))
    }

    struct Candidate {
        var offset: Int
        var end: Int
        var expected: UInt32
        var normalizedStart: UInt32
    }

    /// A binary min-heap of candidates by end offset.
    struct CandidateHeap {
        private var items: [Candidate] = []
        var isEmpty: Bool { items.isEmpty }
        var minimum: Candidate? { items.first }

        mutating func insert(_ candidate: Candidate) {
            items.append(candidate)
            var child = items.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard items[child].end < items[parent].end else { break }
                items.swapAt(child, parent)
                child = parent
            }
        }

        mutating func removeMinimum() {
            items.swapAt(0, items.count - 1)
            items.removeLast()
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count, items[left].end < items[smallest].end { smallest = left }
                if right < items.count, items[right].end < items[smallest].end { smallest = right }
                guard smallest != parent else { return }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
    }
}

/// Polynomials modulo the CRC-32C polynomial in the reflected bit order of its register
/// (bit 31 is x^0), as zlib's crc32_combine uses them.
enum CRCArithmetic {
    static let polynomial: UInt32 = 0x82F6_3B78
    static let one: UInt32 = 1 << 31

    static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var product: UInt32 = 0, a = a, b = b
        while a != 0 {
            if a & one != 0 { product ^= b }
            a <<= 1
            b = b & 1 != 0 ? (b >> 1) ^ polynomial : b >> 1
        }
        return product
    }

    /// The register before one zero byte was processed: the inverse of `T[r & 0xFF] ^ (r >> 8)`.
    /// The top byte of the table entry identifies the low byte of r (CRC tables are a bijection on it).
    static func divideByX8(_ value: UInt32) -> UInt32 {
        let low = inverseTop[Int(value >> 24)]
        return ((value ^ CRC32C.table[Int(low)]) << 8) | UInt32(low)
    }

    static let inverseTop: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for index in 0..<256 { table[Int(CRC32C.table[index] >> 24)] = UInt8(index) }
        return table
    }()
}
