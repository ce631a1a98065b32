import Crypto
import Foundation

/// An age X25519 recipient: the organisation's public key, `age1…` as `age-keygen` prints it.
public struct AgeRecipient: Hashable, Sendable, CustomStringConvertible {
    public let publicKey: [UInt8]

    public init(publicKey: [UInt8]) {
        precondition(publicKey.count == 32)
        self.publicKey = publicKey
    }

    /// Parses `age1…`; the error says what is wrong in the technician's terms. A secret key given
    /// by mistake is never echoed; a low-order point (which every recording would be open to) is refused.
    public init(parsing text: String) throws(AgeKeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !AgeIdentity.containsSecretKey(trimmed) else { throw .secretKeyGivenAsRecipient }
        guard trimmed.lowercased().hasPrefix("age1") else {
            throw .notARecipient(trimmed, "an age recipient starts with 'age1' (make one with age-keygen)")
        }
        let decoded: (hrp: String, data: [UInt8])
        do { decoded = try Bech32.decode(trimmed) } catch {
            throw .notARecipient(trimmed, error == .badChecksum ? "its checksum is wrong (a character was mistyped or lost)" : "it is not valid Bech32")
        }
        guard decoded.hrp == "age" else { throw .notARecipient(trimmed, "only X25519 recipients (age1…) are supported") }
        guard decoded.data.count == 32 else { throw .notARecipient(trimmed, "it holds \(decoded.data.count) bytes, not 32") }
        guard !Self.isLowOrder(decoded.data) else { throw .lowOrderRecipient(trimmed) }
        publicKey = decoded.data
    }

    /// Any fixed scalar works: clamped X25519 scalars are multiples of 8, so the result is the
    /// identity (all zero) exactly when the point's order divides 8 — whatever its encoding (u = 0,
    /// 1, p − 1, the two order-8 points, u + p, the high bit set). The age spec refuses such keys.
    private static let lowOrderProbe = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: [UInt8](repeating: 0x5A, count: 32))

    /// True when sealing to `publicKey` would give every file key away: X25519 with any secret lands
    /// on the all-zero shared secret, which anyone can compute.
    static func isLowOrder(_ publicKey: [UInt8]) -> Bool {
        guard publicKey.count == 32, let probe = lowOrderProbe,
              let point = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKey),
              let shared = try? probe.sharedSecretFromKeyAgreement(with: point) else { return true }
        return AgeHeader.isAllZero(shared)
    }

    public var description: String { Bech32.encode(hrp: "age", data: publicKey) }
}

/// An age X25519 identity (`AGE-SECRET-KEY-1…`). Lives with IT, never on the appliance.
public struct AgeIdentity: Sendable {
    let privateKey: Curve25519.KeyAgreement.PrivateKey

    public init(parsing text: String) throws(AgeKeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.uppercased().hasPrefix("AGE-SECRET-KEY-1") else {
            throw .notAnIdentity("an age identity starts with AGE-SECRET-KEY-1")
        }
        guard let decoded = try? Bech32.decode(trimmed), decoded.hrp == "age-secret-key-", decoded.data.count == 32,
              let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: decoded.data) else {
            throw .notAnIdentity("AGE-SECRET-KEY-1… is damaged (bad checksum or length)")
        }
        privateKey = key
    }

    public init(generating: Void = ()) { privateKey = Curve25519.KeyAgreement.PrivateKey() }

    /// Whether `text` holds (or starts to hold) an age secret key: such text must never be printed.
    public static func containsSecretKey(_ text: some StringProtocol) -> Bool {
        text.uppercased().contains(secretKeyMarker)
    }

    static let secretKeyMarker = "SECRET-KEY"
    public static let redactedSecretKey = "AGE-SECRET-KEY-1… (an age secret key: not shown; treat it as exposed and make a new pair with age-keygen)"

    /// `text` with every age secret key in it (any case, with or without the "AGE-" prefix) replaced
    /// by `redactedSecretKey`, for messages that quote what they were given.
    public static func redactingSecretKeys(in text: String) -> String {
        guard containsSecretKey(text) else { return text }
        let marker = Array(secretKeyMarker.unicodeScalars)
        let prefix = Array("AGE-".unicodeScalars)
        let scalars = Array(text.unicodeScalars)
        func upper(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
            (0x61...0x7A).contains(scalar.value) ? Unicode.Scalar(scalar.value - 32)! : scalar
        }
        func matches(_ word: [Unicode.Scalar], at index: Int) -> Bool {
            index >= 0 && index + word.count <= scalars.count && (0..<word.count).allSatisfy { upper(scalars[index + $0]) == word[$0] }
        }
        var output: [Unicode.Scalar] = []
        var index = 0
        while index < scalars.count {
            guard matches(marker, at: index) else {
                output.append(scalars[index])
                index += 1
                continue
            }
            let start = index
            index += marker.count
            // The rest of the key: Bech32 characters and the separators around them.
            while index < scalars.count, scalars[index].isASCII,
                  scalars[index].properties.isAlphabetic || ("0"..."9").contains(scalars[index]) || scalars[index] == "-" {
                index += 1
            }
            // "AGE-SECRET-KEY-1…" as prose (no key characters after the "1") is kept.
            let body = scalars[(start + marker.count)..<index].drop { $0 == "-" }
            guard body.count > 1 || (body.count == 1 && body.first != "1") else {
                output += scalars[start..<index]
                continue
            }
            if matches(prefix, at: start - prefix.count) { output.removeLast(prefix.count) }
            output += redactedSecretKey.unicodeScalars
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: output)
        return String(view)
    }

    public var recipient: AgeRecipient { AgeRecipient(publicKey: Array(privateKey.publicKey.rawRepresentation)) }

    /// The text `age-keygen` would write for this key.
    public var encoded: String { Bech32.encode(hrp: "AGE-SECRET-KEY-", data: Array(privateKey.rawRepresentation)).uppercased() }

    /// Reads an identity file as `age-keygen` writes it: `#` comment lines, blank lines, and one or
    /// more `AGE-SECRET-KEY-1…` lines.
    public static func load(identityFile path: String) throws(AgeKeyError) -> [AgeIdentity] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path) }
        var identities: [AgeIdentity] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if content.isEmpty || content.hasPrefix("#") { continue }
            do { identities.append(try AgeIdentity(parsing: content)) } catch {
                throw .badIdentityFile(path, line: number + 1, "\(error)")
            }
        }
        guard !identities.isEmpty else { throw .badIdentityFile(path, line: 0, "no AGE-SECRET-KEY-1… line in it") }
        return identities
    }
}

public enum AgeKeyError: Error, Equatable, CustomStringConvertible {
    case notARecipient(String, String)
    case lowOrderRecipient(String)
    /// The text is deliberately not kept: it is a secret.
    case secretKeyGivenAsRecipient
    case noRecipient
    case notAnIdentity(String)
    case unreadable(String)
    case badIdentityFile(String, line: Int, String)

    public var description: String {
        switch self {
        case .notARecipient(let text, let why): "'\(text)' is not a usable age recipient: \(why)"
        case .lowOrderRecipient(let text):
            "'\(text)' is a low-order point: anyone could open recordings sealed to it; make a new key with age-keygen "
                + "and give its public key (age-keygen -y prints it)"
        case .secretKeyGivenAsRecipient:
            "this is an age secret key (AGE-SECRET-KEY-1…), not a recipient, so it is not shown here; it must be treated as exposed: "
                + "make a new pair with 'age-keygen -o org.key' on IT's workstation, give the appliance only the public key "
                + "'age-keygen -y org.key' prints (age1…), and keep the new key file offline"
        case .noRecipient: "no age recipient was given: there is no key to seal to (make one with age-keygen)"
        case .notAnIdentity(let why): "not an age identity: \(why)"
        case .unreadable(let path): "\(path): cannot read the identity file"
        case .badIdentityFile(let path, let line, let why): line > 0 ? "\(path):\(line): \(why)" : "\(path): \(why)"
        }
    }
}
