import Crypto
import Foundation
import SkrybaSystem

public enum DeviceKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    case insecureMode(path: String, mode: UInt32)
    case malformed(path: String, reason: String)
    case file(FileError)

    public var description: String {
        switch self {
        case .insecureMode(let path, let mode):
            "device key \(path) has mode \(String(mode, radix: 8).leftPadded(4)), readable by group or others; "
                + "refusing to use it (run: chmod 600 \(path), and consider the key exposed)"
        case .malformed(let path, let reason):
            "device key \(path) is not a Skryba device key: \(reason)"
        case .file(let error):
            "device key: \(error)"
        }
    }
}

/// The appliance's own Ed25519 key (DESIGN.md §3): it signs audit checkpoints and export
/// manifests. It can open no recording. IT pins its public key (hex or fingerprint) from the console.
///
/// On disk: `keys/device-ed25519.key`, PKCS #8 PEM ("BEGIN PRIVATE KEY"), the form OpenSSL and
/// most tools read for Ed25519 — `openssl pkey -in device-ed25519.key -pubout` shows the public key.
public struct DeviceKey: Sendable {
    public let path: String
    private let privateKey: Curve25519.Signing.PrivateKey

    /// Raw 32-byte Ed25519 public key.
    public var publicKey: Data { privateKey.publicKey.rawRepresentation }
    public var publicKeyHex: String { publicKey.hex }
    /// First 16 hex digits of SHA-256(public key): short enough to read over the phone, for IT to pin.
    public var fingerprint: String { Self.fingerprint(of: publicKey) }

    public static func fingerprint(of publicKey: Data) -> String {
        String(SHA256.hash(data: publicKey).hex.prefix(16))
    }

    /// Ed25519 signature (64 bytes).
    public func sign(_ message: Data) -> Data {
        // BoringSSL's ED25519_sign cannot fail for a valid key, which the initialisers guarantee.
        try! privateKey.signature(for: message)
    }

    public static func verify(signature: Data, message: Data, publicKey: Data) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    /// Loads `DATA_DIR/keys/device-ed25519.key`, or makes it on first start and records
    /// `device-key-created` (with the public key) in the audit log.
    public static func loadOrCreate(dataDirectory: String, audit: AuditLog?, at now: Date) throws -> DeviceKey {
        let path = "\(dataDirectory)/\(DataLayout.deviceKey)"
        if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
        let key = try create(path: path, directory: "\(dataDirectory)/\(DataLayout.keysDirectory)")
        try audit?.append(.deviceKeyCreated, details: ["public_key": key.publicKeyHex, "fingerprint": key.fingerprint,
                                                       "path": DataLayout.deviceKey], at: now)
        return key
    }

    public static func load(path: String) throws(DeviceKeyError) -> DeviceKey {
        var status = stat()
        guard stat(path, &status) == 0 else { throw .file(FileError(operation: "stat", path: path, errno: errno)) }
        let mode = UInt32(status.st_mode) & 0o7777
        guard mode & 0o077 == 0 else { throw .insecureMode(path: path, mode: mode) }
        let bytes: [UInt8]
        do throws(FileError) {
            let file = try FileDescriptor.open(path, .readOnly)
            defer { try? file.close() }
            bytes = try file.readAll(path: path)
        } catch { throw .file(error) }
        return try DeviceKey(path: path, seed: PKCS8.seed(fromPEM: String(decoding: bytes, as: UTF8.self), path: path))
    }

    private init(path: String, seed: Data) throws(DeviceKeyError) {
        do {
            privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        } catch {
            throw .malformed(path: path, reason: "the seed is not a valid Ed25519 key")
        }
        self.path = path
    }

    /// Temp file (0600), fsync, rename over the final name, fsync the directory: after a power cut
    /// the key is either absent (made again on the next start) or whole, never half-written.
    private static func create(path: String, directory: String) throws(DeviceKeyError) -> DeviceKey {
        let key = Curve25519.Signing.PrivateKey()
        let temporary = path + ".tmp"
        do throws(FileError) {
            try Directory.create(directory, permissions: 0o700)
            let file = try FileDescriptor.open(temporary, .truncate(permissions: 0o600))
            do throws(FileError) {
                // The file may be a leftover of a crash, created under another umask.
                guard fchmod(file.rawValue, 0o600) == 0 else { throw FileError(operation: "fchmod", path: temporary, errno: errno) }
                try file.writeAll(Array(PKCS8.pem(seed: key.rawRepresentation).utf8), path: temporary)
                try file.sync(path: temporary)
            } catch {
                try? file.close()
                throw error
            }
            try file.close(path: temporary)
            try Directory.rename(temporary, to: path, directory: directory)
        } catch { throw .file(error) }
        return try DeviceKey(path: path, seed: key.rawRepresentation)
    }
}

/// Ed25519 private keys in PKCS #8 (RFC 8410): a fixed 16-byte DER prefix, then the 32-byte seed.
enum PKCS8 {
    static let ed25519Prefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
    static let begin = "-----BEGIN PRIVATE KEY-----"
    static let end = "-----END PRIVATE KEY-----"

    static func pem(seed: Data) -> String {
        "\(begin)\n\(Data(ed25519Prefix + seed).base64EncodedString())\n\(end)\n"
    }

    static func seed(fromPEM text: String, path: String) throws(DeviceKeyError) -> Data {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = lines.firstIndex(of: begin), let last = lines.firstIndex(of: end), first < last else {
            throw .malformed(path: path, reason: "no '\(begin)' … '\(end)' block")
        }
        guard let der = Data(base64Encoded: lines[(first + 1)..<last].joined()) else {
            throw .malformed(path: path, reason: "the PEM body is not base64")
        }
        guard der.count == ed25519Prefix.count + 32, der.starts(with: ed25519Prefix) else {
            throw .malformed(path: path, reason: "not an Ed25519 PKCS #8 private key (\(der.count) bytes of DER)")
        }
        return Data(der.suffix(32))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
