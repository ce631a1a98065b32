import SkrybaSQLite

/// The catalog's schema, as an ordered list of migrations. `PRAGMA user_version` holds the number
/// of the last one applied; each runs in its own transaction together with the version bump, so a
/// power cut leaves the database at one version or the next, never between. Append new migrations;
/// never edit one that has shipped. docs/storage.md explains every column.
enum Schema {
    struct Migration {
        let version: Int64
        let sql: String
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
    ]

    static var currentVersion: Int64 { migrations.last!.version }

    /// Connection settings (per connection, so on every open), then any pending migrations.
    static func open(path: String) throws -> StoreConnection {
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
            // audit log reports must survive a power cut.
            try database.execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")
        }
        while try connection.write("migrating the schema", { database in try migrateOneStep(database, path: path) }) {}
        return connection
    }

    /// Applies the next pending migration; false when there is none. The version is re-read inside
    /// the write transaction, so two processes opening a fresh catalog at once migrate it once.
    private static func migrateOneStep(_ database: SQLiteDatabase, path: String) throws -> Bool {
        let version = try database.userVersion()
        guard version <= currentVersion else {
            throw CatalogError.schemaTooNew(path: path, version: version, supported: currentVersion)
        }
        guard let next = migrations.first(where: { $0.version > version }) else { return false }
        try database.execute(next.sql)
        try database.setUserVersion(next.version)
        return true
    }
}
