import Foundation
import GRDB

/// The append-only, hash-chained audit log in `audit_log` (docs/storage.md). Entries are only ever
/// inserted (triggers refuse UPDATE and DELETE); each hashes the one before it; signed checkpoints
/// let anyone holding the device's public key check that nothing was rewritten since.
public final class AuditLog: Sendable {
    let connection: StoreConnection
    /// Who appends when `append` is not told otherwise ("skrybad", "console:technician", …).
    public let actor: String

    init(connection: StoreConnection, actor: String) {
        self.connection = connection
        self.actor = actor
    }

    @discardableResult
    public func append(_ kind: AuditKind, subject: String? = nil, details: [String: String] = [:], actor: String? = nil,
                       at now: Date) throws -> AuditEntry {
        try connection.write("appending a \(kind.rawValue) audit entry") { database in
            try Self.append(kind, subject: subject, details: details, actor: actor ?? self.actor, at: now, in: database)
        }
    }

    /// Appends inside the caller's transaction: the state change and its entry commit together, and
    /// the chain head read here cannot move before the insert (BEGIN IMMEDIATE holds the write lock).
    @discardableResult
    static func append(_ kind: AuditKind, subject: String?, details: [String: String], actor: String, at now: Date,
                       in database: Database) throws -> AuditEntry {
        precondition(database.isInsideTransaction, "audit entries are appended inside the state change's transaction")
        var seq: Int64 = 1
        var prevHash = AuditEntry.genesisHash
        if let head = try Row.fetchOne(database, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") {
            let stored = StoredRow(head, table: "audit_log")
            seq = try stored.integer("seq") + 1
            prevHash = try stored.blob("hash")
        }
        let timeUTC = UTCTimestamp.string(from: now)
        let detailsText = AuditEntry.encodeDetails(details)
        let hash = AuditEntry.hash(prevHash: prevHash, seq: seq, timeUTC: timeUTC, kind: kind.rawValue, subject: subject,
                                   actor: actor, details: detailsText)
        let entry = AuditEntry(seq: seq, timeUTC: timeUTC, kind: kind.rawValue, subject: subject, actor: actor,
                               details: detailsText, prevHash: prevHash, hash: hash)
        try entry.insert(database)
        return entry
    }

    /// Entries with `range.lowerBound <= seq <= range.upperBound`, in order.
    public func entries(_ range: ClosedRange<Int64> = 1...Int64.max) throws -> [AuditEntry] {
        try connection.read("reading the audit log") { database in
            try Self.entries(range, limit: Int64.max, in: database)
        }
    }

    public func lastEntry() throws -> AuditEntry? {
        try connection.read("reading the audit log") { database in
            guard let last = try Int64.fetchOne(database, sql: "SELECT max(seq) FROM audit_log") else { return nil }
            return try Self.entries(last...last, limit: 1, in: database).first
        }
    }

    public func checkpoints() throws -> [AuditCheckpoint] {
        try connection.read("reading the audit checkpoints") { database in try Self.checkpoints(in: database) }
    }

    /// Appends a `checkpoint` entry naming the signing key, then signs the chain up to and including
    /// that entry — the signature cannot be inside the entry it covers, so it goes to
    /// `audit_checkpoints`, keyed by the entry's seq. Entry and signature commit together.
    @discardableResult
    public func checkpoint(signer: DeviceKey, at now: Date) throws -> AuditCheckpoint {
        try connection.write("writing an audit checkpoint") { database in
            let hasEntries = try Row.fetchAll(database, sql: "SELECT 1 FROM audit_log LIMIT 1").isEmpty == false
            guard hasEntries else { throw CatalogError.emptyAuditLog }
            return try Self.appendCheckpoint(signer: signer, actor: actor, at: now, in: database)
        }
    }

    /// A checkpoint when entries were appended since the last one; nil when the log is already
    /// covered (or empty). Every retention run ends with it.
    @discardableResult
    public func checkpointIfUncovered(signer: DeviceKey, at now: Date) throws -> AuditCheckpoint? {
        try connection.write("writing an audit checkpoint") { database in
            let tail = try Self.uncoveredTail(in: database)
            guard tail.count > 0 else { return nil }
            return try Self.appendCheckpoint(signer: signer, actor: actor, at: now, in: database)
        }
    }

    /// From now on, any write on this catalog's connection that leaves `everyEntries` or more
    /// entries beyond the last checkpoint, or an uncovered entry written `everyMinutes` or more
    /// before the newest, appends a checkpoint in the same transaction, dated like the newest
    /// entry. So a power cut leaves fewer than `everyEntries` unsigned entries at the end of the
    /// log (docs/storage.md, "Signed checkpoints"). The daemon turns it on with its device key.
    public func signCheckpoints(with signer: DeviceKey, everyEntries: Int = 64, everyMinutes: Int = 15) {
        let actor = actor, entries = Int64(max(1, everyEntries)), age = TimeInterval(max(1, everyMinutes) * 60)
        connection.setBeforeCommit { database in
            let tail = try Self.uncoveredTail(in: database)
            guard tail.count > 0, let newest = tail.newestTime else { return }
            guard tail.count >= entries || (tail.oldestTime.map { newest.timeIntervalSince($0) >= age } ?? false) else { return }
            _ = try Self.appendCheckpoint(signer: signer, actor: actor, at: newest, in: database)
        }
    }

    /// Entries after the last checkpoint: how many, and the times of the first and last of them.
    static func uncoveredTail(in database: Database) throws -> (count: Int64, oldestTime: Date?, newestTime: Date?) {
        guard let head = try Row.fetchOne(database, sql: "SELECT seq, time_utc FROM audit_log ORDER BY seq DESC LIMIT 1") else {
            return (0, nil, nil)
        }
        let stored = StoredRow(head, table: "audit_log")
        let headSeq = try stored.integer("seq"), headTime = try stored.text("time_utc")
        let coveredSeq = try Int64.fetchOne(database, sql: "SELECT max(seq) FROM audit_checkpoints") ?? 0
        guard headSeq > coveredSeq else { return (0, nil, nil) }
        let first = try String.fetchOne(database, sql: "SELECT time_utc FROM audit_log WHERE seq = ?", arguments: [coveredSeq + 1])
        let firstTime = first.flatMap(UTCTimestamp.date(from:))
        return (headSeq - coveredSeq, firstTime, UTCTimestamp.date(from: headTime))
    }

    /// The checkpoint entry and its signature row, inside the caller's transaction.
    static func appendCheckpoint(signer: DeviceKey, actor: String, at now: Date, in database: Database) throws -> AuditCheckpoint {
        let entry = try append(.checkpoint, subject: nil, details: ["public_key": signer.publicKeyHex, "fingerprint": signer.fingerprint],
                               actor: actor, at: now, in: database)
        let signature = signer.sign(AuditCheckpoint.message(seq: entry.seq, hash: entry.hash))
        let checkpoint = AuditCheckpoint(seq: entry.seq, hash: entry.hash, timeUTC: entry.timeUTC,
                                         publicKey: signer.publicKey, signature: signature)
        try checkpoint.insert(database)
        return checkpoint
    }

    /// Walks the whole chain and every checkpoint from one consistent snapshot (a read transaction); see `AuditVerifier`.
    /// With `trustedPublicKey` (the key IT pinned), a checkpoint by any other key is a problem.
    public func verify(trustedPublicKey: Data? = nil) throws -> AuditVerification {
        try connection.read("verifying the audit log") { database in
            var verifier = AuditVerifier(checkpoints: try Self.checkpoints(in: database), trustedPublicKey: trustedPublicKey)
            // Pages, so a log of years does not sit in memory at once.
            var next: Int64 = 1
            while verifier.problem == nil {
                let page = try Self.entries(next...Int64.max, limit: 4096, in: database)
                guard let last = page.last else { break }
                for entry in page where verifier.problem == nil { verifier.check(entry) }
                next = last.seq + 1
            }
            return verifier.finish(entryCount: try Int.fetchOne(database, sql: "SELECT count(*) FROM audit_log") ?? 0)
        }
    }

    static func entries(_ range: ClosedRange<Int64>, limit: Int64, in database: Database) throws -> [AuditEntry] {
        let rows = try Row.fetchAll(database, sql: """
            SELECT seq, time_utc, kind, subject, actor, details, prev_hash, hash FROM audit_log
            WHERE seq BETWEEN ? AND ? ORDER BY seq LIMIT ?
            """, arguments: [range.lowerBound, range.upperBound, limit])
        return try rows.map { row in
            var reader = StoredRow(row, table: "audit_log")
            let seq = try reader.integer("seq")
            reader.key = "entry \(seq)"
            return AuditEntry(seq: seq, timeUTC: try reader.text("time_utc"), kind: try reader.text("kind"),
                              subject: try reader.optionalText("subject"), actor: try reader.text("actor"),
                              details: try reader.text("details"), prevHash: try reader.blob("prev_hash"),
                              hash: try reader.blob("hash"))
        }
    }

    static func checkpoints(in database: Database) throws -> [AuditCheckpoint] {
        let rows = try Row.fetchAll(database, sql: "SELECT seq, hash, time_utc, public_key, signature FROM audit_checkpoints ORDER BY seq")
        return try rows.map { row in
            var reader = StoredRow(row, table: "audit_checkpoints")
            let seq = try reader.integer("seq")
            reader.key = "checkpoint at entry \(seq)"
            return AuditCheckpoint(seq: seq, hash: try reader.blob("hash"), timeUTC: try reader.text("time_utc"),
                                   publicKey: try reader.blob("public_key"), signature: try reader.blob("signature"))
        }
    }
}

/// Entries and checkpoints are inserted as Codable records: their property names, in snake case,
/// are the columns (`timeUTC` → `time_utc`, `prevHash` → `prev_hash`). They are read back through
/// `StoredRow`, which refuses a value of the wrong type instead of converting it: the chain verifies
/// the bytes that are stored.
extension AuditEntry: PersistableRecord {
    public static var databaseTableName: String { "audit_log" }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

extension AuditCheckpoint: PersistableRecord {
    public static var databaseTableName: String { "audit_checkpoints" }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}
