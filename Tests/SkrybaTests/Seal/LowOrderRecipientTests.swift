import Foundation
import Testing
@testable import SkrybaSeal
import SkrybaConfig
import SkrybaPipeline
import SkrybaSystem

/// Issue 8 item 1: an X25519 recipient of small order makes every file key public (the shared
/// secret is all zero whatever the ephemeral key). The points are derived here from the curve
/// equation, independently of the code under test, and every encoding of them is refused wherever a
/// recipient is parsed or wrapped to.
@Suite struct LowOrderRecipientTests {
    /// Integers modulo p = 2^255 − 19, four 64-bit limbs, little endian: just enough to solve for
    /// the points of order 8 and to check their order by x-only doubling.
    struct Field: Equatable {
        var limbs: [UInt64]
        static let p = Field(limbs: [0xFFFF_FFFF_FFFF_FFED, .max, .max, 0x7FFF_FFFF_FFFF_FFFF])
        static let zero = Field(0), one = Field(1)
        init(_ small: UInt64) { limbs = [small, 0, 0, 0] }
        init(limbs: [UInt64]) { self.limbs = limbs }

        static func >= (a: Field, b: Field) -> Bool {
            for index in (0..<4).reversed() where a.limbs[index] != b.limbs[index] { return a.limbs[index] > b.limbs[index] }
            return true
        }
        /// a + b for values below 2^256 (the carry out is returned).
        static func add(_ a: [UInt64], _ b: [UInt64]) -> ([UInt64], UInt64) {
            var out = [UInt64](repeating: 0, count: 4), carry: UInt64 = 0
            for index in 0..<4 {
                let sum = UInt128(a[index]) + UInt128(b[index]) + UInt128(carry)
                out[index] = UInt64(truncatingIfNeeded: sum)
                carry = UInt64(sum >> 64)
            }
            return (out, carry)
        }
        static func subtract(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
            var out = [UInt64](repeating: 0, count: 4), borrow: UInt64 = 0
            for index in 0..<4 {
                let (d1, o1) = a[index].subtractingReportingOverflow(b[index])
                let (d2, o2) = d1.subtractingReportingOverflow(borrow)
                out[index] = d2
                borrow = (o1 || o2) ? 1 : 0
            }
            return out
        }
        static func reduce(_ a: [UInt64], carry: UInt64) -> Field {
            // 2^256 ≡ 38 (mod p)
            var (value, high) = (a, carry)
            while high != 0 {
                let folded = add(value, [UInt64(high) &* 38, 0, 0, 0])
                value = folded.0
                high = folded.1
            }
            var result = Field(limbs: value)
            while result >= p { result = Field(limbs: subtract(result.limbs, p.limbs)) }
            return result
        }
        static func + (a: Field, b: Field) -> Field { let (sum, carry) = add(a.limbs, b.limbs); return reduce(sum, carry: carry) }
        static prefix func - (a: Field) -> Field { a == .zero ? a : Field(limbs: subtract(p.limbs, a.limbs)) }
        static func - (a: Field, b: Field) -> Field { a + -b }
        static func * (a: Field, b: Field) -> Field {
            var wide = [UInt64](repeating: 0, count: 8)
            for i in 0..<4 {
                var carry: UInt128 = 0
                for j in 0..<4 {
                    let sum = UInt128(a.limbs[i]) * UInt128(b.limbs[j]) + UInt128(wide[i + j]) + carry
                    wide[i + j] = UInt64(truncatingIfNeeded: sum)
                    carry = sum >> 64
                }
                wide[i + 4] = UInt64(carry)
            }
            // low + 38 · high
            var folded = [UInt64](repeating: 0, count: 4), carry: UInt128 = 0
            for index in 0..<4 {
                let sum = UInt128(wide[index]) + UInt128(wide[index + 4]) * 38 + carry
                folded[index] = UInt64(truncatingIfNeeded: sum)
                carry = sum >> 64
            }
            return reduce(folded, carry: UInt64(carry))
        }
        func power(_ exponent: [UInt64]) -> Field {
            var result = Field.one
            for index in (0..<256).reversed() {
                result = result * result
                if exponent[index / 64] >> UInt64(index % 64) & 1 == 1 { result = result * self }
            }
            return result
        }
        var inverse: Field { power(Self.subtractSmall(Self.p.limbs, 2)) }
        /// A square root when one exists (p ≡ 5 mod 8: Atkin's method).
        var squareRoot: Field? {
            // (p + 3) / 8 and (p − 1) / 4
            let candidate = power(Self.shiftRight(Self.addSmall(Self.p.limbs, 3), 3))
            if candidate * candidate == self { return candidate }
            let rootOfMinusOne = Field(2).power(Self.shiftRight(Self.subtractSmall(Self.p.limbs, 1), 2))
            let other = candidate * rootOfMinusOne
            return other * other == self ? other : nil
        }
        static func addSmall(_ a: [UInt64], _ b: UInt64) -> [UInt64] { add(a, [b, 0, 0, 0]).0 }
        static func subtractSmall(_ a: [UInt64], _ b: UInt64) -> [UInt64] {
            var out = a, borrow = b
            for index in 0..<4 where borrow != 0 {
                let (d, o) = out[index].subtractingReportingOverflow(borrow)
                out[index] = d
                borrow = o ? 1 : 0
            }
            return out
        }
        static func shiftRight(_ a: [UInt64], _ bits: UInt64) -> [UInt64] {
            (0..<4).map { index in a[index] >> bits | (index < 3 ? a[index + 1] << (64 - bits) : 0) }
        }
        var bytes: [UInt8] { limbs.flatMap { limb in (0..<8).map { UInt8(truncatingIfNeeded: limb >> (8 * $0)) } } }
    }

    static let a = Field(486_662)

    /// x(2P) on the Montgomery curve v² = u³ + A u² + u, or nil for the point at infinity.
    static func double(_ x: Field) -> Field? {
        let denominator = Field(4) * x * (x * x + Self.a * x + .one)
        guard denominator != .zero else { return nil }
        let numerator = (x * x - .one) * (x * x - .one)
        return numerator * denominator.inverse
    }

    /// The two u-coordinates of the points of order 8: x(2P) = ±1 ⇔ x⁴ − 4x³ − (2 + 4A)x² − 4x + 1 = 0 (for +1);
    /// with t = x + 1/x that is t² − 4t − (4 + 4A) = 0, so t = 2 ± 2√(A + 2), then x² − t x + 1 = 0.
    static func orderEightPoints() throws -> [Field] {
        let root = try #require((a + Field(2)).squareRoot)
        var points: [Field] = []
        for t in [Field(2) + Field(2) * root, Field(2) - Field(2) * root] {
            guard let discriminant = (t * t - Field(4)).squareRoot else { continue }
            let half = Field(2).inverse
            points += [(t + discriminant) * half, (t - discriminant) * half]
        }
        return points.filter { point in
            // Order exactly 8: 2P has u = ±1, 4P = (0, 0), 8P = ∞.
            guard let twice = double(point), twice == .one || twice == -.one, let four = double(twice), four == .zero else { return false }
            return double(four) == nil
        }
    }

    /// Every 32-byte encoding whose u (top bit masked, then reduced mod p) has order dividing 8.
    static func lowOrderEncodings() throws -> [(name: String, bytes: [UInt8])] {
        let eight = try orderEightPoints()
        var values: [(String, Field)] = [("0", .zero), ("1", .one), ("p − 1", -.one)]
        values += eight.enumerated().map { ("order-8 point \($0.offset + 1)", $0.element) }
        var encodings: [(String, [UInt8])] = values.map { ($0.0, $0.1.bytes) }
        // Non-canonical: p and p + 1 (u = 0 and 1 again); u + p ≥ 2^255 for the others.
        encodings.append(("p", Field.p.bytes))
        encodings.append(("p + 1", Field.addSmall(Field.p.limbs, 1).flatMap { limb in (0..<8).map { UInt8(truncatingIfNeeded: limb >> (8 * $0)) } }))
        // The high bit is ignored by X25519 (RFC 7748 §5).
        encodings += encodings.map { name, bytes in
            var high = bytes
            high[31] |= 0x80
            return ("\(name) with the high bit set", high)
        }
        return encodings
    }

    @Test func theDerivedPointsAreTheKnownOnes() throws {
        let eight = try Self.orderEightPoints()
        #expect(eight.count == 2, "the curve has two u-coordinates of order 8")
        // Independent of the derivation: X25519 with a random secret lands on all zeros for each.
        let secret = AgeIdentity()
        for (name, bytes) in try Self.lowOrderEncodings() {
            let shared = try secret.privateKey.sharedSecretFromKeyAgreement(with: .init(rawRepresentation: bytes))
            #expect(shared.withUnsafeBytes { $0.allSatisfy { $0 == 0 } }, "\(name)")
        }
        // The age1qqqq…5cu47z is the all-zero point.
        let zero = Bech32.encode(hrp: "age", data: [UInt8](repeating: 0, count: 32))
        #expect(zero.hasPrefix("age1qqqq") && zero.hasSuffix("5cu47z"))
    }

    @Test func everyEncodingIsRefusedWithTheReason() throws {
        let encodings = try Self.lowOrderEncodings()
        #expect(encodings.count == 14)
        for (name, bytes) in encodings {
            let text = Bech32.encode(hrp: "age", data: bytes)
            #expect(throws: AgeKeyError.lowOrderRecipient(text), "\(name)") { try AgeRecipient(parsing: text) }
        }
        let description = AgeKeyError.lowOrderRecipient("age1x").description
        #expect(description == "'age1x' is a low-order point: anyone could open recordings sealed to it; make a new key with age-keygen "
                + "and give its public key (age-keygen -y prints it)")
        // An ordinary key still parses.
        let good = AgeIdentity().recipient.description
        #expect(try AgeRecipient(parsing: good).description == good)
    }

    @Test func wrappingToALowOrderPointIsAnError() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-loworder")
        for (name, bytes) in try Self.lowOrderEncodings() {
            // Past the parser (a recipient built from raw bytes): the all-zero shared secret is refused.
            let recipient = AgeRecipient(publicKey: bytes)
            #expect(throws: AgeKeyError.lowOrderRecipient(recipient.description), "\(name)") {
                try AgePayload.encryptFile([1, 2, 3], to: [recipient])
            }
            #expect(throws: AgeKeyError.lowOrderRecipient(recipient.description), "\(name)") {
                try SealedRecordingWriter(path: "\(directory)/x.skryba", recipients: [AgeIdentity().recipient, recipient])
            }
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/x.skryba"), "no file is left for \(name)")
        }
    }

    @Test func theConfigurationLoaderRefusesThem() throws {
        let fixture = try ConfigFixture("loworder")
        let announcement = try fixture.wav("announcement.wav")
        for (name, bytes) in try Self.lowOrderEncodings() {
            let text = Bech32.encode(hrp: "age", data: bytes)
            let problems = fixture.problems(ConfigTests.ConfigurationTests.specExample(recipient: text, announcement: announcement))
            #expect(problems == ["DIR/skryba.toml:2: recipients[1]: '\(text)' is a low-order point: anyone could open recordings sealed to it; "
                                 + "make a new key with age-keygen and give its public key (age-keygen -y prints it)"], "\(name)")
        }
    }

    @Test func toAgeRefusesThem() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-loworder-toage")
        let zero = Bech32.encode(hrp: "age", data: [UInt8](repeating: 0, count: 32))
        let result = try Tool.run(Tool.product("skryba-tools"), ["to-age", "--identity", "\(directory)/none.key", "--recipient", zero,
                                                                 "\(directory)/none.skryba", "-o", "\(directory)/out.age"])
        #expect(result.status != 0)
        #expect(result.output.contains("'\(zero)' is a low-order point: anyone could open recordings sealed to it"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/out.age"))
    }
}
