#if canImport(Glibc)
import Glibc
#endif
import GRDB
import SkrybaSystem

/// The catalog's schema, as an ordered list of migrations run by GRDB's `DatabaseMigrator`, each in
/// its own IMMEDIATE transaction, so a power cut leaves the database at one step or the next, never
/// between. GRDB records the steps applied in `grdb_migrations`; `PRAGMA user_version` still holds
/// the number of the last one, as it did before GRDB: a catalog written by older firmware (versions
/// 1…5, no `grdb_migrations`) is carried forward in place — a step whose version it already has is
/// recorded as applied without running again. Append new migrations; never edit one that has
/// shipped. docs/storage.md explains every column.
enum Schema {
    struct Migration: Sendable {
        let version: Int64
        /// What the step adds; with the version, its identifier in `grdb_migrations`.
        let name: String
        let sql: String
        /// Runs before `sql`, in the same transaction: for steps plain SQL cannot express.
        var prepare: (@Sendable (Database) throws -> Void)? = nil

        var identifier: String { "v\(version) \(name)" }
    }

    static let migrations: [Migration] = [
        Migration(version: 1, name: "recordings and the audit log", sql: """
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
        Migration(version: 2, name: "retention, holds, secured copies, rights", sql: """
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
        Migration(version: 3, name: "untrusted clock", sql: """
            ALTER TABLE recordings ADD COLUMN clock_untrusted INTEGER NOT NULL DEFAULT 0 CHECK (clock_untrusted IN (0, 1));
            """),
        // Issue 8 item 8 (storage faults): status 'failed', the recording could not be written at all
        // (its file could not be made); `failure_reason` says why. SQLite cannot alter a CHECK, so the
        // table is rebuilt from its live definition (columns added above survive).
        Migration(version: 4, name: "failed recordings", sql: """
            ALTER TABLE recordings ADD COLUMN failure_reason TEXT;
            """, prepare: { db in try rebuildRecordings(db, allowingStatus: "failed") }),
        // Issue 9 item 1 (one recording session): the periods missing from a recording's timeline
        // (ring overflow, xrun, storage falling behind), filled with silence in the file and kept
        // here as evidence: a JSON array of `RecordingGap` (start_frame, frames, offset_ms,
        // duration_ms); NULL when the recording has none.
        Migration(version: 5, name: "recording gaps", sql: """
            ALTER TABLE recordings ADD COLUMN gaps TEXT;
            """),
        // Issue 11 (disclosure): the register of requests, exports, listenings, the line's number.
        RequestsSQL.migration,
    ]

    static let statusCheckV1 = "CHECK (status IN ('recording', 'complete', 'interrupted', 'discarded'))"

    /// The documented rebuild (sqlite.org/lang_altertable.html §7), from the table's own stored
    /// definition so columns later migrations added survive: copy into a new table whose status
    /// CHECK also allows `status`, drop the old one, rename, recreate its indexes and triggers, and
    /// keep the AUTOINCREMENT counter (ids are never reused). The migrator runs it with foreign keys
    /// off and checks them before it commits.
    static func rebuildRecordings(_ db: Database, allowingStatus status: String) throws {
        guard let table = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'recordings'"),
              table.hasPrefix("CREATE TABLE recordings ("), table.contains(statusCheckV1) else {
            throw CatalogError.invalid(nil, reason: "catalog \(db.description): migration 4: the recordings table is not the one schema version 3 made; refusing to rebuild it")
        }
        let dependents = try String.fetchAll(db, sql: "SELECT sql FROM sqlite_schema WHERE tbl_name = 'recordings' AND type IN ('index', 'trigger') AND sql IS NOT NULL")
        let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'recordings'") ?? 0
        let widened = statusCheckV1.replacingOccurrences(of: "'discarded')", with: "'discarded', '\(status)')")
        // The rename must not rewrite the (dropped) table's references in other tables' definitions.
        try db.execute(sql: "PRAGMA legacy_alter_table = ON")
        try db.execute(sql: table.replacingOccurrences(of: "CREATE TABLE recordings (", with: "CREATE TABLE recordings_rebuilt (")
            .replacingOccurrences(of: statusCheckV1, with: widened))
        try db.execute(sql: """
            INSERT INTO recordings_rebuilt SELECT * FROM recordings;
            DROP TABLE recordings;
            ALTER TABLE recordings_rebuilt RENAME TO recordings;
            """)
        for sql in dependents { try db.execute(sql: sql) }
        try db.execute(sql: "UPDATE sqlite_sequence SET seq = ? WHERE name = 'recordings'", arguments: [sequence])
        try db.execute(sql: "PRAGMA legacy_alter_table = OFF")
        guard try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty else {
            throw CatalogError.invalid(nil, reason: "catalog \(db.description): migration 4: rebuilding recordings would break a foreign key; nothing was changed")
        }
    }

    static var currentVersion: Int64 { migrations.last?.version ?? 0 }

    /// The migrator over `migrations`. A step the catalog already has by its `user_version` (a
    /// catalog from before GRDB) only gets its `grdb_migrations` row; every step sets user_version.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.identifier) { db in
                guard try userVersion(db) < migration.version else { return }
                try migration.prepare?(db)
                try db.execute(sql: migration.sql)
                try db.execute(sql: "PRAGMA user_version = \(migration.version)")
            }
        }
        return migrator
    }

    static func userVersion(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "PRAGMA user_version") ?? 0
    }

    /// Connection settings (GRDB applies them on open), then any pending migrations.
    static func open(path: String) throws -> StoreConnection {
        do { try makePrivate(path) } catch { throw CatalogError.file(error) }
        var configuration = Configuration()
        // Wait for another process's write instead of failing at once with SQLITE_BUSY.
        configuration.busyMode = .timeout(5)
        configuration.label = path
        configuration.prepareDatabase { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            guard mode == "wal" else { throw CatalogError.notWAL(path: path, journalMode: mode ?? "unknown") }
            // FULL: a commit is on flash (WAL fsync'ed) before the call returns — a state change the
            // audit log reports must survive a power cut.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch let error as DatabaseError {
            throw CatalogError.database(path: path, action: "opening", SQLiteFailure(error))
        }
        let connection = StoreConnection(queue, path: path)
        let migrator = Self.migrator
        let version = try connection.read("reading the schema version") { db in try userVersion(db) }
        let superseded = try connection.read("reading the schema version") { db in
            try db.tableExists("grdb_migrations") && migrator.hasBeenSuperseded(db)
        }
        guard version <= currentVersion, !superseded else {
            throw CatalogError.schemaTooNew(path: path, version: version, supported: currentVersion)
        }
        // Two processes opening a fresh catalog at once: the one that reaches the write lock second
        // finds the step already applied (its user_version check skips the work, its
        // grdb_migrations row collides) and rolls back; it tries again from what is now applied,
        // as long as the other process is making progress.
        var applied = -1
        while true {
            do {
                try migrator.migrate(queue)
                break
            } catch let error as DatabaseError {
                let failure = CatalogError.database(path: path, action: "migrating the schema", SQLiteFailure(error))
                let now = try connection.read("reading the applied migrations") { db in
                    try db.tableExists("grdb_migrations") ? migrator.appliedIdentifiers(db).count : 0
                }
                guard now > applied else { throw failure }
                applied = now
            }
        }
        return connection
    }

    /// The catalog holds personal data: owner-only. Created here (0600, and as root with the data
    /// directory's owner) before SQLite opens it, because SQLite gives its -wal and -shm the mode and
    /// owner of the database file. Files an older firmware left readable by others are tightened.
    static func makePrivate(_ path: String) throws(FileError) {
        do throws(FileError) {
            try FileDescriptor.open(path, .createExclusive(permissions: 0o600)).close(path: path)
        } catch where error.code == .fileExists {
            for file in [path, path + "-wal", path + "-shm"] {
                var status = stat()
                if stat(file, &status) == 0, status.st_mode & 0o077 != 0, chmod(file, 0o600) != 0 {
                    throw FileError(operation: "chmod", path: file, errno: errno)
                }
            }
        }
    }
}
