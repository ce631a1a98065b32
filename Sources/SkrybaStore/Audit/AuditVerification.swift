import Foundation

/// The first thing wrong with an audit log, in the order the log is read.
public enum AuditProblem: Equatable, Sendable, CustomStringConvertible {
    case missingEntries(from: Int64, through: Int64)
    /// The stored hash is not the hash of the stored fields.
    case modifiedEntry(seq: Int64)
    /// prev_hash is not the previous entry's hash (for entry 1: not 32 zero bytes).
    case brokenLink(seq: Int64)
    /// An entry of kind `checkpoint` whose signature row is gone from audit_checkpoints.
    case checkpointMissing(seq: Int64)
    /// A row in audit_checkpoints at an entry that is not a `checkpoint` entry.
    case checkpointNotAtCheckpointEntry(seq: Int64, kind: String)
    case checkpointUntrustedKey(seq: Int64, fingerprint: String, trustedFingerprint: String)
    /// The checkpoint entry names one key, the signature row carries another.
    case checkpointKeyDiffers(seq: Int64, fingerprint: String, named: String)
    case checkpointSignatureInvalid(seq: Int64, fingerprint: String)
    /// Validly signed, but over a different hash than the chain now has at that entry.
    case checkpointDoesNotMatch(seq: Int64)
    /// A checkpoint covers entries the log no longer has.
    case truncated(lastSeq: Int64, checkpointSeq: Int64)

    public var description: String {
        switch self {
        case .missingEntries(let from, let through):
            "\(entries(from, through)) missing"
        case .modifiedEntry(let seq):
            "entry \(seq): hash does not match its contents (modified after it was written)"
        case .brokenLink(let seq):
            seq == 1 ? "entry 1: prev_hash is not 32 zero bytes (the log does not start here)"
                : "entry \(seq): prev_hash does not link to entry \(seq - 1)"
        case .checkpointMissing(let seq):
            "entry \(seq) records a checkpoint, but its signature is missing from audit_checkpoints (deleted)"
        case .checkpointNotAtCheckpointEntry(let seq, let kind):
            "checkpoint at entry \(seq): entry \(seq) is a \(kind) entry, not a checkpoint (forged checkpoint)"
        case .checkpointUntrustedKey(let seq, let fingerprint, let trusted):
            "checkpoint at entry \(seq): signed by device key \(fingerprint), not by the trusted key \(trusted)"
        case .checkpointKeyDiffers(let seq, let fingerprint, let named):
            "checkpoint at entry \(seq): signed by device key \(fingerprint), but entry \(seq) names device key \(named)"
        case .checkpointSignatureInvalid(let seq, let fingerprint):
            "checkpoint at entry \(seq): signature invalid for device key \(fingerprint)"
        case .checkpointDoesNotMatch(let seq):
            "checkpoint at entry \(seq): signed a different hash than entry \(seq) has now (entries up to \(seq) were rewritten after it was signed)"
        case .truncated(let lastSeq, let checkpointSeq):
            "\(entries(lastSeq + 1, checkpointSeq)) missing: "
                + (lastSeq == 0 ? "the log is empty" : "the log ends at entry \(lastSeq)")
                + ", but the checkpoint at entry \(checkpointSeq) covers them (truncated)"
        }
    }
}

/// "entry 7" or "entries 7–9".
func entries(_ from: Int64, _ through: Int64) -> String {
    from == through ? "entry \(from)" : "entries \(from)–\(through)"
}

public struct AuditVerification: Equatable, Sendable {
    /// Rows in audit_log.
    public var entryCount: Int
    /// The last entry read before the walk stopped (the log's last entry when intact).
    public var lastSeq: Int64
    /// Rows in audit_checkpoints.
    public var checkpointCount: Int
    /// Entries 1…coveredThrough are vouched for by a valid checkpoint (0: none).
    public var coveredThrough: Int64
    /// The fingerprint of the key that signed the covering checkpoint.
    public var coveringKeyFingerprint: String?
    /// The first problem found; nil when the log is intact.
    public var problem: AuditProblem?
    /// Not errors: e.g. the tail written since the last checkpoint, which no signature vouches for yet.
    public var warnings: [String]

    public init(entryCount: Int, lastSeq: Int64, checkpointCount: Int, coveredThrough: Int64, coveringKeyFingerprint: String?,
                problem: AuditProblem?, warnings: [String]) {
        self.entryCount = entryCount
        self.lastSeq = lastSeq
        self.checkpointCount = checkpointCount
        self.coveredThrough = coveredThrough
        self.coveringKeyFingerprint = coveringKeyFingerprint
        self.problem = problem
        self.warnings = warnings
    }

    public var isIntact: Bool { problem == nil }

    /// Several lines for the console and for a DPO's report.
    public var summary: String {
        var lines = ["audit log: \(entryCount) \(entryCount == 1 ? "entry" : "entries"), "
                     + "\(checkpointCount) signed \(checkpointCount == 1 ? "checkpoint" : "checkpoints")"]
        if let problem { lines.append("PROBLEM: \(problem)") }
        if coveredThrough > 0, let key = coveringKeyFingerprint {
            lines.append("\(entries(1, coveredThrough)) covered by a signed checkpoint (device key \(key))")
        }
        lines += warnings.map { "warning: \($0)" }
        if problem == nil { lines.append("chain intact") }
        return lines.joined(separator: "\n")
    }
}

/// The walk behind `AuditLog.verify`, fed entries in seq order; stops at the first problem.
struct AuditVerifier {
    private let checkpointsBySeq: [Int64: AuditCheckpoint]
    private let trustedPublicKey: Data?
    private(set) var problem: AuditProblem?
    private var lastSeq: Int64 = 0
    private var lastHash = AuditEntry.genesisHash
    private var coveredThrough: Int64 = 0
    private var coveringKey: Data?

    init(checkpoints: [AuditCheckpoint], trustedPublicKey: Data?) {
        checkpointsBySeq = Dictionary(checkpoints.map { ($0.seq, $0) }, uniquingKeysWith: { first, _ in first })
        self.trustedPublicKey = trustedPublicKey
    }

    mutating func check(_ entry: AuditEntry) {
        if entry.seq != lastSeq + 1 {
            problem = .missingEntries(from: lastSeq + 1, through: entry.seq - 1)
        } else if entry.recomputedHash != entry.hash {
            problem = .modifiedEntry(seq: entry.seq)
        } else if entry.prevHash != lastHash {
            problem = .brokenLink(seq: entry.seq)
        } else if let checkpoint = checkpointsBySeq[entry.seq] {
            problem = check(checkpoint, against: entry)
            if problem == nil {
                coveredThrough = entry.seq
                coveringKey = checkpoint.publicKey
            }
        } else if entry.knownKind == .checkpoint {
            problem = .checkpointMissing(seq: entry.seq)
        }
        guard problem == nil else { return }
        lastSeq = entry.seq
        lastHash = entry.hash
    }

    /// Order matters only for which message wins when several apply: the most specific first.
    private func check(_ checkpoint: AuditCheckpoint, against entry: AuditEntry) -> AuditProblem? {
        let fingerprint = DeviceKey.fingerprint(of: checkpoint.publicKey)
        guard entry.knownKind == .checkpoint else {
            return .checkpointNotAtCheckpointEntry(seq: entry.seq, kind: entry.kind)
        }
        if let trustedPublicKey, checkpoint.publicKey != trustedPublicKey {
            return .checkpointUntrustedKey(seq: entry.seq, fingerprint: fingerprint,
                                           trustedFingerprint: DeviceKey.fingerprint(of: trustedPublicKey))
        }
        let named = entry.decodedDetails?["public_key"] ?? "(none)"
        if named != checkpoint.publicKey.hex {
            let namedFingerprint = Data(hex: named).map(DeviceKey.fingerprint(of:)) ?? named
            return .checkpointKeyDiffers(seq: entry.seq, fingerprint: fingerprint, named: namedFingerprint)
        }
        guard checkpoint.isSignatureValid else {
            return .checkpointSignatureInvalid(seq: entry.seq, fingerprint: fingerprint)
        }
        guard checkpoint.hash == entry.hash else { return .checkpointDoesNotMatch(seq: entry.seq) }
        return nil
    }

    func finish(entryCount: Int) -> AuditVerification {
        var result = AuditVerification(
            entryCount: entryCount, lastSeq: lastSeq, checkpointCount: checkpointsBySeq.count,
            coveredThrough: coveredThrough, coveringKeyFingerprint: coveringKey.map(DeviceKey.fingerprint(of:)),
            problem: problem, warnings: [])
        guard problem == nil else { return result }
        if let beyond = checkpointsBySeq.keys.max(), beyond > lastSeq {
            result.problem = .truncated(lastSeq: lastSeq, checkpointSeq: beyond)
        } else if coveredThrough < lastSeq {
            let tail = entries(coveredThrough + 1, lastSeq)
            result.warnings.append(tail + (coveredThrough + 1 == lastSeq ? " is" : " are") + " not yet covered by a signed checkpoint")
        }
        return result
    }
}

extension Data {
    /// Lowercase hex, as the catalog and the audit details store hashes and keys.
    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.init(bytes)
    }
}
