import Crypto
import Foundation

/// One recipient stanza: `-> TYPE ARGS…` and a binary body.
public struct AgeStanza: Equatable, Sendable {
    public var arguments: [String]
    public var body: [UInt8]
}

/// The age v1 header (c2sp.org/age), byte for byte: version line, stanzas, `--- MAC`. Shared by
/// sealed recordings (after their magic line) and standard age files.
public struct AgeHeader: Equatable, Sendable {
    public static let versionLine = "age-encryption.org/v1"
    static let x25519Label = "age-encryption.org/v1/X25519"

    public var stanzas: [AgeStanza]
    public var mac: [UInt8]

    /// A file key wrapped for every recipient, with the header MAC.
    /// `ephemeralSecrets` exist for the published test vectors only; normally each stanza gets a fresh one.
    public static func seal(fileKey: SymmetricKey, to recipients: [AgeRecipient], ephemeralSecrets: [[UInt8]]? = nil) throws -> AgeHeader {
        guard !recipients.isEmpty else { throw AgeKeyError.noRecipient }
        let stanzas = try recipients.enumerated().map { index, recipient in
            try wrapX25519(fileKey: fileKey, for: recipient,
                           ephemeral: try ephemeralSecrets.map { try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: $0[index]) })
        }
        var header = AgeHeader(stanzas: stanzas, mac: [])
        header.mac = header.computeMAC(fileKey: fileKey)
        return header
    }

    static func wrapX25519(fileKey: SymmetricKey, for recipient: AgeRecipient,
                           ephemeral: Curve25519.KeyAgreement.PrivateKey? = nil) throws -> AgeStanza {
        let ephemeral = ephemeral ?? Curve25519.KeyAgreement.PrivateKey()
        let share = Array(ephemeral.publicKey.rawRepresentation)
        let theirs = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: recipient.publicKey)
        let shared = try ephemeral.sharedSecretFromKeyAgreement(with: theirs)
        // The age spec: an all-zero shared secret is an error (the recipient is a low-order point,
        // and the wrapped file key would be readable by anyone).
        guard !isAllZero(shared) else { throw AgeKeyError.lowOrderRecipient(recipient.description) }
        let wrapKey = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: share + recipient.publicKey,
                                                     sharedInfo: Array(x25519Label.utf8), outputByteCount: 32)
        let sealed = try ChaChaPoly.seal(fileKey.withUnsafeBytes { Data($0) }, using: wrapKey, nonce: try ChaChaPoly.Nonce(data: Data(count: 12)))
        return AgeStanza(arguments: ["X25519", UnpaddedBase64.encode(share)], body: Array(sealed.ciphertext) + Array(sealed.tag))
    }

    /// Finds the stanza this identity opens and checks the header MAC; returns the file key.
    public func unwrap(with identities: [AgeIdentity]) throws(AgeHeaderError) -> SymmetricKey {
        for stanza in stanzas where stanza.arguments.first == "X25519" {
            guard stanza.arguments.count == 2, let share = UnpaddedBase64.decode(stanza.arguments[1]), share.count == 32 else {
                throw .malformedStanza("an X25519 stanza must have one argument, a 32-byte share")
            }
            guard stanza.body.count == 32 else { throw .malformedStanza("an X25519 stanza body must be 32 bytes") }
            for identity in identities {
                guard let theirs = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: share),
                      let shared = try? identity.privateKey.sharedSecretFromKeyAgreement(with: theirs) else { continue }
                guard !Self.isAllZero(shared) else { throw .malformedStanza("X25519 share gives an all-zero secret") }
                let wrapKey = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: share + identity.recipient.publicKey,
                                                             sharedInfo: Array(Self.x25519Label.utf8), outputByteCount: 32)
                guard let box = try? ChaChaPoly.SealedBox(combined: Data(count: 12) + stanza.body[0..<16] + stanza.body[16..<32]),
                      let fileKey = try? ChaChaPoly.open(box, using: wrapKey) else { continue }
                let key = SymmetricKey(data: fileKey)
                guard computeMAC(fileKey: key) == mac else { throw .macMismatch }
                return key
            }
        }
        throw .noMatchingIdentity(stanzas: stanzas.count, identities: identities.map(\.recipient.description))
    }

    static func isAllZero(_ secret: SharedSecret) -> Bool {
        secret.withUnsafeBytes { bytes in bytes.allSatisfy { $0 == 0 } }
    }

    /// The header text up to and including `---` (what the MAC covers).
    var macInput: [UInt8] {
        var text = Self.versionLine + "\n"
        for stanza in stanzas {
            text += "-> " + stanza.arguments.joined(separator: " ") + "\n"
            // Wrapped at 64 columns; the last line is always shorter than 64, so possibly empty.
            var rest = Substring(UnpaddedBase64.encode(stanza.body))
            while rest.count >= 64 {
                text += rest.prefix(64) + "\n"
                rest = rest.dropFirst(64)
            }
            text += rest + "\n"
        }
        return Array((text + "---").utf8)
    }

    func computeMAC(fileKey: SymmetricKey) -> [UInt8] {
        let macKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: [UInt8](), info: Array("header".utf8), outputByteCount: 32)
        return Array(HMAC<SHA256>.authenticationCode(for: macInput, using: macKey))
    }

    /// The whole header as it is written to a file.
    public var encoded: [UInt8] { macInput + Array((" " + UnpaddedBase64.encode(mac) + "\n").utf8) }

    /// Parses a header at the start of `bytes`; returns it and the number of bytes it occupies.
    public static func parse(_ bytes: some Collection<UInt8>) throws(AgeHeaderError) -> (header: AgeHeader, length: Int) {
        var lines = LineReader(bytes: Array(bytes.prefix(1 << 20)))
        guard let version = lines.next() else { throw .truncated }
        guard version == versionLine else {
            if version.hasPrefix("-----BEGIN AGE ENCRYPTED FILE") { throw .armored }
            throw .notAge(version.hasPrefix("age-encryption.org/") ? "unsupported age version '\(version)'" : "no age-encryption.org/v1 line")
        }
        var stanzas: [AgeStanza] = []
        while true {
            guard let line = lines.next() else { throw .truncated }
            if line.hasPrefix("--- ") {
                guard !stanzas.isEmpty else { throw .malformedStanza("a header needs at least one recipient stanza") }
                guard let mac = UnpaddedBase64.decode(line.dropFirst(4)), mac.count == 32 else { throw .malformedMAC }
                return (AgeHeader(stanzas: stanzas, mac: mac), lines.offset)
            }
            guard line.hasPrefix("-> ") else { throw .malformedStanza("expected '-> ' or '--- ', found '\(line.prefix(20))'") }
            let arguments = line.dropFirst(3).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard !arguments.isEmpty, arguments.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (0x21...0x7E).contains($0) } }) else {
                throw .malformedStanza("stanza arguments must be non-empty printable words")
            }
            var body = ""
            while true {
                guard let bodyLine = lines.next() else { throw .truncated }
                guard bodyLine.count <= 64 else { throw .malformedStanza("a stanza body line is longer than 64 columns") }
                body += bodyLine
                if bodyLine.count < 64 { break }
            }
            guard let decoded = UnpaddedBase64.decode(body) else { throw .malformedStanza("a stanza body is not canonical base64") }
            stanzas.append(AgeStanza(arguments: arguments, body: decoded))
        }
    }
}

/// Splits LF-terminated lines, tracking the byte offset after each.
struct LineReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func next() -> String? {
        guard let end = bytes[offset...].firstIndex(of: 0x0A) else { return nil }
        let line = String(decoding: bytes[offset..<end], as: UTF8.self)
        offset = end + 1
        return line
    }
}

public enum AgeHeaderError: Error, Equatable, CustomStringConvertible {
    case notAge(String)
    case armored
    case truncated
    case malformedStanza(String)
    case malformedMAC
    case macMismatch
    case noMatchingIdentity(stanzas: Int, identities: [String])

    public var description: String {
        switch self {
        case .notAge(let why): "not an age header: \(why)"
        case .armored: "this is an ASCII-armored age file; convert it with 'age -d' or strip the armor first"
        case .truncated: "the age header is cut short"
        case .malformedStanza(let why): "malformed age header: \(why)"
        case .malformedMAC: "malformed age header: the '---' line does not carry a 32-byte base64 MAC"
        case .macMismatch: "the age header MAC does not match: the header was altered after sealing"
        case .noMatchingIdentity(let stanzas, let identities):
            "none of the \(stanzas) recipient stanza(s) opens with the given identity (\(identities.joined(separator: ", "))): wrong key file?"
        }
    }
}
