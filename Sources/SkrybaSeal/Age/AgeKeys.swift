import Crypto
import Foundation

/// An age X25519 recipient: the organisation's public key, `age1…` as `age-keygen` prints it.
public struct AgeRecipient: Hashable, Sendable, CustomStringConvertible {
    public let publicKey: [UInt8]

    public init(publicKey: [UInt8]) {
        precondition(publicKey.count == 32)
        self.publicKey = publicKey
    }

    /// Parses `age1…`; the error says what is wrong in the technician's terms.
    public init(parsing text: String) throws(AgeKeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("age1") else {
            throw .notARecipient(trimmed, "an age recipient starts with 'age1' (make one with age-keygen)")
        }
        let decoded: (hrp: String, data: [UInt8])
        do { decoded = try Bech32.decode(trimmed) } catch {
            throw .notARecipient(trimmed, error == .badChecksum ? "its checksum is wrong (a character was mistyped or lost)" : "it is not valid Bech32")
        }
        guard decoded.hrp == "age" else { throw .notARecipient(trimmed, "only X25519 recipients (age1…) are supported") }
        guard decoded.data.count == 32 else { throw .notARecipient(trimmed, "it holds \(decoded.data.count) bytes, not 32") }
        publicKey = decoded.data
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
    case notAnIdentity(String)
    case unreadable(String)
    case badIdentityFile(String, line: Int, String)

    public var description: String {
        switch self {
        case .notARecipient(let text, let why): "'\(text)' is not a usable age recipient: \(why)"
        case .notAnIdentity(let why): "not an age identity: \(why)"
        case .unreadable(let path): "\(path): cannot read the identity file"
        case .badIdentityFile(let path, let line, let why): line > 0 ? "\(path):\(line): \(why)" : "\(path): \(why)"
        }
    }
}
