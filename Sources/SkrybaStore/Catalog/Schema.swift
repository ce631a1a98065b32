#if canImport(Glibc)
import Glibc
#endif
import SkrybaSQLite
import SkrybaSystem

/// The catalog's schema, as an ordered list of migrations. `PRAGMA user_version` holds the number
/// of the last one applied; each runs in its own transaction together with the version bump, so a
/// power cut leaves the database at one version or the next, never between. Append new migrations;
/// never edit one that has shipped. docs/storage.md explains every column.
enum Schema {
    struct Migration: Sendable {
        let version: Int64
        let sql: String
        /// Runs before `sql`, in the same transaction: for steps plain SQL cannot express.
        var prepare: (@Sendable (SQLiteDatabase) throws -> Void)? = nil
    }

    static let migrations: [Migration] = [
        Migration(version: 1, sql: """
            CREATE TABLE recordings (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                line INTEGER NOT NULL CHECK (line >= 1),
                direction TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing', 'line')),
                start_utc TEXT NOT NULL,
                start_frame INTEGER NOT NULL CHECK (start_frame >= 0),
                end_frame INTEGER CHECK (end_frame >= start_frame),
                duration_ms INTEGER CHECK (duration_ms >= 0),
                status TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'interrupted', 'discarded')),
                caller_number TEXT,
                dialed_digits TEXT,
                announcement_id TEXT,
                announcement_sha256 TEXT CHECK ((announcement_id IS NULL) = (announcement_sha256 IS NULL)),
                announcement_completed INTEGER CHECK (announcement_completed IS NULL
                                                      OR (announcement_completed IN (0, 1) AND announcement_id IS NOT NULL)),
                consent TEXT CHECK (consent IN ('given', 'objected', 'hung-up', 'not-asked')),
                file_path TEXT UNIQUE,
                file_size INTEGER CHECK (file_size >= 0),
                file_sha256 TEXT,
                retention_deadline_utc TEXT,
                hold_refs TEXT,
                recipients TEXT NOT NULL,
                created_utc TEXT NOT NULL,
                updated_utc TEXT NOT NULL
            );
            CREATE INDEX recordings_by_status ON recordings (status);
            CREATE INDEX recordings_by_start ON recordings (start_utc);

            CREATE TABLE audit_log (
                seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                time_utc TEXT NOT NULL,
                kind TEXT NOT NULL,
                subject TEXT,
                actor TEXT NOT NULL,
                details TEXT NOT NULL,
                prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
                hash BLOB NOT NULL CHECK (length(hash) = 32)
            );
            CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
            CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

            CREATE TABLE audit_checkpoints (
                seq INTEGER PRIMARY KEY REFERENCES audit_log (seq),
                hash BLOB NOT NULL CHECK (length(hash) = 32),
                time_utc TEXT NOT NULL,
                public_key BLOB NOT NULL CHECK (length(public_key) = 32),
                signature BLOB NOT NULL CHECK (length(signature) = 64)
            );
            CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
                BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
            CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
                BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
            """),
        // Retention, legal holds, secured copies, data-subject rights (docs/retention.md).
        Migration(version: 2, sql: """
            ALTER TABLE recordings ADD COLUMN retention_rule TEXT;
            ALTER TABLE recordings ADD COLUMN deletion_started_utc TEXT;
            ALTER TABLE recordings ADD COLUMN deletion_rule TEXT
                CHECK ((deletion_rule IS NULL) = (deletion_started_utc IS NULL));
            ALTER TABLE recordings ADD COLUMN deleted_utc TEXT
                CHECK (deleted_utc IS NULL OR deletion_started_utc IS NOT NULL);
            ALTER TABLE recordings ADD COLUMN restricted_utc TEXT;
            CREATE INDEX recordings_to_delete ON recordings (retention_deadline_utc) WHERE deleted_utc IS NULL;
            CREATE INDEX recordings_unscheduled ON recordings (id) WHERE retention_rule IS NULL AND deleted_utc IS NULL;
            CREATE TRIGGER recordings_deletion_is_final BEFORE UPDATE ON recordings
                WHEN (OLD.deletion_started_utc IS NOT NULL
                      AND (NEW.deletion_started_utc IS NOT OLD.deletion_started_utc OR NEW.deletion_rule IS NOT OLD.deletion_rule))
                  OR (OLD.deleted_utc IS NOT NULL
                      AND (NEW.deleted_utc IS NOT OLD.deleted_utc OR NEW.caller_number IS NOT NULL OR NEW.dialed_digits IS NOT NULL))
                BEGIN SELECT RAISE(ABORT, 'a deletion cannot be undone'); END;

            CREATE TABLE holds (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                case_ref TEXT NOT NULL UNIQUE CHECK (length(trim(case_ref)) > 0),
                kind TEXT NOT NULL CHECK (kind IN ('legal', 'secured-copy')),
                reason TEXT NOT NULL,
                created_utc TEXT NOT NULL,
                created_by TEXT NOT NULL,
                released_utc TEXT,
                released_by TEXT CHECK ((released_by IS NULL) = (released_utc IS NULL)),
                release_reason TEXT
            );
            CREATE TABLE hold_members (
                hold INTEGER NOT NULL REFERENCES holds (id),
                recording INTEGER NOT NULL REFERENCES recordings (id),
                added_utc TEXT NOT NULL,
                PRIMARY KEY (hold, recording)
            ) WITHOUT ROWID;
            CREATE INDEX hold_members_by_recording ON hold_members (recording, hold);

            CREATE TABLE secured_copies (
                seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                recording INTEGER NOT NULL REFERENCES recordings (id),
                hold INTEGER NOT NULL UNIQUE REFERENCES holds (id),
                period_from_utc TEXT NOT NULL,
                period_to_utc TEXT NOT NULL,
                caller_number TEXT,
                called_number TEXT NOT NULL,
                request_received_utc TEXT NOT NULL,
                requested_utc TEXT NOT NULL,
                override_reason TEXT,
                made_by TEXT NOT NULL,
                made_utc TEXT,
                file_path TEXT NOT NULL UNIQUE,
                file_size INTEGER CHECK (file_size >= 0),
                file_sha256 TEXT,
                expires_utc TEXT CHECK ((expires_utc IS NULL) = (made_utc IS NULL)),
                renewed_utc TEXT,
                released_utc TEXT,
                release_note TEXT CHECK ((release_note IS NULL) = (released_utc IS NULL)),
                destroyed_utc TEXT,
                destruction_note TEXT CHECK ((destruction_note IS NULL) = (destroyed_utc IS NULL))
            );

            CREATE TABLE corrections (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                recording INTEGER NOT NULL REFERENCES recordings (id),
                field TEXT NOT NULL CHECK (field IN ('caller_number', 'dialed_digits')),
                previous_value TEXT,
                new_value TEXT,
                salt BLOB CHECK (salt IS NULL OR length(salt) = 32),
                erased_utc TEXT,
                corrected_utc TEXT NOT NULL,
                reason TEXT NOT NULL,
                actor TEXT NOT NULL
            );
            CREATE INDEX corrections_by_recording ON corrections (recording);
            """),
        // Issue 8 item 5 (retention): recordings started while the system clock was not synchronised
        // (docs/retention.md, "An untrusted clock"). Retention never deletes them on their date.
        Migration(version: 3, sql: """
            ALTER TABLE recordings ADD COLUMN clock_untrusted INTEGER NOT NULL DEFAULT 0 CHECK (clock_untrusted IN (0, 1));
            """),
        // Issue 8 item 8 (storage faults): status 'failed', the recording could not be written at all
        // (its file could not be made); `failure_reason` says why. SQLite cannot alter a CHECK, so the
        // table is rebuilt from its live definition (columns added above survive).
        Migration(version: 4, sql: """
            ALTER TABLE recordings ADD COLUMN failure_reason TEXT;
            """, prepare: { database in try rebuildRecordings(database, allowingStatus: "failed") }),
        // Issue 9 item 1 (one recording session): the periods missing from a recording's timeline
        // (ring overflow, xrun, storage falling behind), filled with silence in the file and kept
        // here as evidence: a JSON array of `RecordingGap` (start_frame, frames, offset_ms,
        // duration_ms); NULL when the recording has none.
        Migration(version: 5, sql: """
            ALTER TABLE recordings ADD COLUMN gaps TEXT;
            """),
        // Issue 11 (disclosure): the register of requests, exports, listenings, the line's number.
        RequestsSQL.migration,
    ]

    static let statusCheckV1 = "CHECK (status IN ('recording', 'complete', 'interrupted', 'discarded'))"

    /// The documented rebuild (sqlite.org/lang_altertable.html §7), from the table's own stored
    /// definition so columns later migrations added survive: copy into a new table whose status
    /// CHECK also allows `status`, drop the old one, rename, recreate its indexes and triggers, and
    /// keep the AUTOINCREMENT counter (ids are never reused). Foreign keys are off during migrations.
    static func rebuildRecordings(_ database: SQLiteDatabase, allowingStatus status: String) throws {
        func texts(_ sql: String) throws -> [String] {
            try database.prepare(sql).rows().compactMap { if case .text(let text) = $0.first { text } else { nil } }
        }
        guard let table = try texts("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'recordings'").first,
              table.hasPrefix("CREATE TABLE recordings ("), table.contains(statusCheckV1) else {
            throw CatalogError.invalid(nil, reason: "catalog \(database.path): migration 3: the recordings table is not the one schema version 2 made; refusing to rebuild it")
        }
        let dependents = try texts("SELECT sql FROM sqlite_schema WHERE tbl_name = 'recordings' AND type IN ('index', 'trigger') AND sql IS NOT NULL")
        let sequence = try database.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'recordings'").rows().first?.first ?? .integer(0)
        let widened = statusCheckV1.replacingOccurrences(of: "'discarded')", with: "'discarded', '\(status)')")
        try database.execute(table.replacingOccurrences(of: "CREATE TABLE recordings (", with: "CREATE TABLE recordings_rebuilt (")
            .replacingOccurrences(of: statusCheckV1, with: widened))
        try database.execute("""
            INSERT INTO recordings_rebuilt SELECT * FROM recordings;
            DROP TABLE recordings;
            ALTER TABLE recordings_rebuilt RENAME TO recordings;
            """)
        for sql in dependents { try database.execute(sql) }
        try database.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'recordings'").run([sequence])
        guard try database.prepare("PRAGMA foreign_key_check").rows().isEmpty else {
            throw CatalogError.invalid(nil, reason: "catalog \(database.path): migration 3: rebuilding recordings would break a foreign key; nothing was changed")
        }
    }

    static var currentVersion: Int64 { migrations.last!.version }

    /// Connection settings (per connection, so on every open), then any pending migrations.
    static func open(path: String) throws -> StoreConnection {
        do { try makePrivate(path) } catch { throw CatalogError.file(error) }
        let database: SQLiteDatabase
        do {
            database = try SQLiteDatabase(path: path)
        } catch {
            throw CatalogError.database(path: path, action: "opening", error)
        }
        let connection = StoreConnection(database)
        try connection.read("setting up the connection") { database in
            // Wait for another process's write instead of failing at once with SQLITE_BUSY.
            try database.execute("PRAGMA busy_timeout = 5000")
            let mode = try database.prepare("PRAGMA journal_mode = WAL").rows().first?.first
            guard mode == .text("wal") else {
                guard case .text(let name) = mode else { throw CatalogError.notWAL(path: path, journalMode: "unknown") }
                throw CatalogError.notWAL(path: path, journalMode: name)
            }
            // FULL: a commit is on flash (WAL fsync'ed) before the call returns — a state change the
            // audit log reports must survive a power cut. Foreign keys go on after the migrations
            // (a table rebuild needs them off; the pragma cannot change inside a transaction).
            try database.execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON")
        }
        while try connection.write("migrating the schema", { database in try migrateOneStep(database, path: path) }) {}
        try connection.read("setting up the connection") { database in
            try database.execute("PRAGMA legacy_alter_table = OFF; PRAGMA foreign_keys = ON")
        }
        return connection
    }

    /// The catalog holds personal data: owner-only. Created here (0600, and as root with the data
    /// directory's owner) before SQLite opens it, because SQLite gives its -wal and -shm the mode and
    /// owner of the database file. Files an older firmware left readable by others are tightened.
    static func makePrivate(_ path: String) throws(FileError) {
        do throws(FileError) {
            try FileDescriptor.open(path, .createExclusive(permissions: 0o600)).close()
        } catch where error.errno == EEXIST {
            for file in [path, path + "-wal", path + "-shm"] {
                var status = stat()
                if stat(file, &status) == 0, status.st_mode & 0o077 != 0, chmod(file, 0o600) != 0 {
                    throw FileError(operation: "chmod", path: file, errno: errno)
                }
            }
        }
    }

    /// Applies the next pending migration; false when there is none. The version is re-read inside
    /// the write transaction, so two processes opening a fresh catalog at once migrate it once.
    private static func migrateOneStep(_ database: SQLiteDatabase, path: String) throws -> Bool {
        let version = try database.userVersion()
        guard version <= currentVersion else {
            throw CatalogError.schemaTooNew(path: path, version: version, supported: currentVersion)
        }
        guard let next = migrations.first(where: { $0.version > version }) else { return false }
        try next.prepare?(database)
        try database.execute(next.sql)
        try database.setUserVersion(next.version)
        return true
    }
}
