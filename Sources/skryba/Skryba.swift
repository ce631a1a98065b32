import ArgumentParser
import Foundation
import SkrybaOpus
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore
import SkrybaConfig

@main
struct Skryba: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skryba",
        abstract: "Skryba call recorder: administration on the appliance.",
        discussion: """
            Every subcommand that touches the appliance's state takes --config FILE (default /etc/skryba/skryba.toml).

            Exit status: 0 done; 1 refused or failed (the reason is printed as "skryba: …" on standard error); \
            2 the configuration or data directory cannot be used; 64 a mistake in the command's arguments (printed with the usage).
            """,
        version: SkrybaVersion.current,
        subcommands: [StatusCommand.self, AlarmsCommand.self, ReloadCommand.self, SimulateCommand.self, HoldCommand.self, CopiesCommand.self, RetentionCommand.self, FsckCommand.self, AuditCommand.self, RecordingsCommand.self, DeviceKeyCommand.self, DocumentsCommand.self,
                      RequestsCommand.self, ExportServeCommand.self, ReportCommand.self,
                      BenchCommand.self, EncodeCommand.self, ConsoleCommand.self, ConfigCommand.self])

    /// Argument mistakes print the usage (exit 64), as argument-parser does; a failure while the command
    /// runs prints only "skryba: <reason>" with the exit status the discussion above lists.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("skryba: \(failure.description)\n".utf8))
            exit(withError: ExitCode(failure.code.rawValue))
        } catch where exitCode(for: error) == .failure && !(error is ExitCode) {
            // Any other runtime failure (a refusal, a locked data directory): argument-parser would say "Error: …".
            FileHandle.standardError.write(Data("skryba: \(message(for: error))\n".utf8))
            exit(withError: ExitCode.failure)
        } catch {
            exit(withError: error)
        }
    }
}

/// A table for a person: a header row, then each column padded to its widest cell (the last left as it is).
func printTable(_ header: [String], _ rows: [[String]]) {
    let table = [header] + rows
    let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
    for cells in table {
        print(cells.indices.map { column in
            column == cells.count - 1 ? cells[column] : cells[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }.joined(separator: "  "))
    }
}

/// A runtime failure told in a sentence (a refusal, an unusable configuration), never with the usage.
struct CommandFailure: Error, CustomStringConvertible {
    enum Code: Int32 {
        case failed = 1
        case configuration = 2
    }

    let description: String
    let code: Code
    init(_ description: String, code: Code = .failed) {
        self.description = description
        self.code = code
    }
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run the real capture → Opus pipeline over a WAV as fast as the CPU allows and print JSON figures.",
        discussion: """
            The input (mono 16-bit WAV) is replicated to N channels and looped to the requested length in an \
            alsa-lib `type file` PCM; the capture thread, rings, line workers and encoders run exactly as on the \
            appliance. Bare libopus then encodes the same audio with the same settings in the same process, and \
            the CPU ratio is reported (--no-baseline skips it).
            """)

    @Option(help: "Mono 16-bit WAV at the line rate.") var input: String
    @Option(help: "Lines (capture channels) to record, 1 to 64.") var lines: Int = 8
    @Option(help: "Seconds of audio per line, at most 3600 (and at most 1 GiB of capture in all).") var seconds: Double = 10
    @Option(help: "Line sample rate (8000 or 16000); default: the WAV's rate.") var rate: Int?
    @Option(help: "Opus bitrate in bit/s.") var bitrate: Int = OpusSettings.defaultBitrate
    @Option(help: "Opus complexity 0...10.") var complexity: Int = OpusSettings.defaultComplexity
    @Option(help: "Keep the .opus files in this directory (default: a temporary one, removed).") var out: String?
    @Flag(help: "Skip the bare-libopus baseline (to time the pipeline from outside).") var noBaseline = false
    @Option(help: "max: as fast as possible, nothing dropped; realtime: the file PCM delivers at the sample rate and full rings drop, as on a device.")
    var pace: String = "max"
    @Option(help: "Run each side this many times and keep the fastest.") var repeats: Int = 1
    @Option(help: "Seal to this age1… recipient (repeatable); default: a throwaway key made for the run.") var recipient: [String] = []
    @Flag(help: "Write plain .opus instead of sealed recordings.") var noSeal = false
    @Flag(help: "Also run the unsealed pipeline and report what sealing costs.") var sealOverhead = false
    @Flag(help: "Do not fsync each record (isolates CPU from the disk; the appliance always fsyncs).") var noFsync = false

    func run() throws {
        guard pace == "max" || pace == "realtime" else { throw ValidationError("--pace is max or realtime, not '\(pace)'") }
        var options = Bench.Options(input: input, lines: lines, seconds: seconds)
        options.rate = rate
        options.opus = OpusSettings(bitrate: bitrate, complexity: complexity)
        options.outputDirectory = out
        options.baseline = !noBaseline
        options.realTime = pace == "realtime"
        options.repeats = repeats
        options.recipients = try recipient.map { try AgeRecipient(parsing: $0) }
        options.seal = !noSeal
        options.measureSealOverhead = sealOverhead
        options.fsync = !noFsync
        let report = try Bench.run(options)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode a mono 16-bit WAV (8 or 16 kHz) to Ogg Opus with the appliance's line encoder.")

    @Option(help: "Input WAV.") var input: String
    @Option(help: "Output .opus file.") var output: String
    @Option(help: "Opus bitrate in bit/s.") var bitrate: Int = OpusSettings.defaultBitrate
    @Option(help: "Opus complexity 0...10.") var complexity: Int = OpusSettings.defaultComplexity

    func run() throws {
        let result = try EncodeFile.run(input: input, output: output, settings: OpusSettings(bitrate: bitrate, complexity: complexity))
        print("\(output): \(result.bytes) bytes for \(String(format: "%.2f", result.seconds)) s of audio")
    }
}

/// Where the appliance's state is: from the configuration file, or a data directory given directly.
struct DataDirectoryOption: ParsableArguments {
    @Option(help: "The configuration file; its data_dir is used.") var config: String = "/etc/skryba/skryba.toml"
    @Option(name: .customLong("data-dir"), help: "Use this data directory instead of the configuration's data_dir (catalog.sqlite, keys/, recordings/).")
    var dataDirOverride: String?

    var dataDir: String {
        get throws {
            if let dataDirOverride { return dataDirOverride }
            do { return try ConfigurationLoader.load(path: config).dataDirectory } catch {
                throw CommandFailure("cannot use \(config):\n\(error)\n(or give --data-dir DIR)", code: .configuration)
            }
        }
    }

    /// The catalog, opened as the command's `access` needs (docs/storage.md, "One owner"): `.owner`
    /// makes this process the data directory's one owner (refused while skrybad or another owner
    /// runs) and, on a full disk, releases the storage reserve so the catalog can open.
    func catalog(actor: String, access: CatalogAccess) throws -> Catalog {
        let dataDir = try dataDir
        guard FileManager.default.fileExists(atPath: "\(dataDir)/\(DataLayout.catalog)") else {
            throw CommandFailure("\(dataDir) holds no catalog.sqlite: is --data-dir right?", code: .configuration)
        }
        if access == .owner {
            try DataDirectoryLock.holdUntilExit(dataDirectory: dataDir)
            StorageReserve(dataDirectory: dataDir).releaseIfFull()
        }
        return try Catalog(dataDirectory: dataDir, actor: actor)
    }
}

struct FsckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Reconcile catalog and sealed files after a crash or power loss (skrybad also runs this at start-up).",
        discussion: """
            Truncates torn tails to the last whole record, closes recordings cut by a power loss as interrupted with \
            their surviving audio, reports files without rows and rows without files. Never deletes a file and never \
            changes one damaged in the middle. Needs no key. Exit status 0 when nothing was found, 1 otherwise.
            """)

    @OptionGroup var data: DataDirectoryOption
    @Flag(help: "Also re-hash every finished recording against the SHA-256 in the catalog.") var deep = false

    func run() throws {
        let dataDir = try data.dataDir
        let signer = try? DeviceKey.load(path: "\(dataDir)/\(DataLayout.deviceKey)")
        let progress = TerminalProgress("fsck")
        let report = try Fsck.run(dataDirectory: dataDir, catalog: try data.catalog(actor: "skryba fsck", access: .owner), deep: deep, signer: signer, at: Date(),
                                  progress: { progress.update($0, of: $1, "recording(s)") })
        progress.finish()
        StorageReserve(dataDirectory: dataDir).restoreIfRoom()
        for finding in report.findings { print("\(finding.kind.rawValue): \(finding)") }
        print("checked \(report.recordingsChecked) recording(s) and \(report.filesChecked) file(s): \(report.findings.count) finding(s)")
        if !report.findings.isEmpty { throw ExitCode.failure }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The audit log.",
                                                    subcommands: [AuditVerifyCommand.self, AuditListCommand.self])
}

struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit log's hash chain and signed checkpoints. Exit status 0 when intact.")

    @OptionGroup var data: DataDirectoryOption
    @Option(help: "The device public key (hex) IT pinned; checkpoints by any other key are a problem.") var publicKey: String?

    func run() throws {
        let pinned: Data? = try publicKey.map { hex in
            let bytes = stride(from: 0, to: hex.count, by: 2).compactMap { UInt8(hex.dropFirst($0).prefix(2), radix: 16) }
            guard bytes.count == 32, hex.count == 64 else { throw ValidationError("--public-key takes 64 hex digits") }
            return Data(bytes)
        }
        let verification = try data.catalog(actor: "skryba audit", access: .read).audit.verify(trustedPublicKey: pinned)
        print(verification.summary)
        if !verification.isIntact { throw ExitCode.failure }
    }
}

struct AuditListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Print audit entries.")

    @OptionGroup var data: DataDirectoryOption
    @Option(help: "Only the last N entries.") var last: Int?

    func run() throws {
        var entries = try data.catalog(actor: "skryba audit", access: .read).audit.entries()
        if let last { entries = Array(entries.suffix(last)) }
        // Stored text is escaped: a value saved before input was checked cannot forge a line or the terminal.
        let rows = entries.map { entry in
            [String(entry.seq), WarsawTime.second(utc: entry.timeUTC), entry.kind, entry.subject ?? "-", entry.actor, entry.details].map(FreeText.printable)
        }
        printTable(["seq", "time", "kind", "subject", "by", "details"], rows)
    }
}

struct RecordingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recordings", abstract: "The catalog of recordings.",
                                                    subcommands: [RecordingsListCommand.self, RecordingsEraseCommand.self,
                                                                  RecordingsRestrictCommand.self, RecordingsCorrectCommand.self])
}

struct RecordingsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List recordings.")

    @OptionGroup var data: DataDirectoryOption
    @Flag(help: "JSON instead of a table.") var json = false

    func run() throws {
        let rows = try data.catalog(actor: "skryba recordings", access: .read).recordings()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(rows.map(RecordingListing.init)), as: UTF8.self))
            return
        }
        print("id\tline\tdirection\tstart\tduration\tstatus\tfile\tgaps")
        for row in rows {
            let duration = row.durationMs.map { String(format: "%.1f s", Double($0) / 1000) } ?? "-"
            let status = row.isDeleted ? "deleted (\(FreeText.printable(row.deletionRule ?? "-")))" : row.status.rawValue + (row.restrictedUTC != nil ? ", restricted" : "")
                + (row.holdRefs.isEmpty ? "" : ", held: \(row.holdRefs.map(FreeText.printable).joined(separator: ","))")
            // A hole in the recording's timeline (filled with silence in its file): count, length, where.
            let gaps = row.gaps.isEmpty ? "-" : RecordingGap.summary(row.gaps)
            print("\(row.id)\t\(row.line)\t\(row.direction.rawValue)\t\(WarsawTime.second(row.startUTC))\t\(duration)\t\(status)\t\(row.isDeleted ? "-" : row.filePath ?? "-")\t\(gaps)")
        }
    }
}

struct DeviceKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device-key",
        abstract: "Show the appliance's Ed25519 public key (signs audit checkpoints and export manifests) for IT to pin.")

    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let key = try DeviceKey.load(path: "\(try data.dataDir)/\(DataLayout.deviceKey)")
        print("public key  \(key.publicKeyHex)")
        print("fingerprint \(key.fingerprint)")
    }
}

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a simulated office through the real daemon and show what it recorded.",
        discussion: """
            Renders SCENARIO (TOML, docs/simulation.md; default: the built-in office of four lines) into a capture stream \
            for real alsa-lib file PCMs, a replay file of ring/hook edges and an appliance configuration; runs skrybad on \
            them; lists the calls and the catalog. Without --recipient it makes a demo key with age-keygen and decrypts \
            every recording with it into OUT/decrypted, as IT would.
            """)

    @Argument(help: "A scenario file; omit for the built-in office.") var scenario: String?
    @Option(help: "Work directory (capture, config, data, decrypted recordings).") var out: String = "out/simulate"
    @Option(help: "Seal to this age1… recipient instead of a demo key (then nothing is decrypted).") var recipient: [String] = []

    func run() throws {
        let scenario = try self.scenario.map { try Scenario.load(path: $0) } ?? .office
        let directory = URL(fileURLWithPath: out).standardizedFileURL.path
        // The work directory is emptied first: only ever one that an earlier simulation made.
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        if !existing.isEmpty, !existing.contains("events.tsv") || !existing.contains("skryba.toml") {
            throw ValidationError("--out \(directory) is not empty and is not an earlier simulation's work directory: give a new or empty one")
        }
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var identityFile: String?
        var recipients = try recipient.map { try AgeRecipient(parsing: $0) }
        if recipients.isEmpty {
            identityFile = "\(directory)/demo-identity.key"
            let keygen = Process()
            keygen.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            keygen.arguments = ["age-keygen", "-o", identityFile!]
            keygen.standardError = FileHandle.nullDevice
            try keygen.run()
            keygen.waitUntilExit()
            guard keygen.terminationStatus == 0 else { throw CommandFailure("age-keygen failed (apt-get install age)") }
            recipients = try AgeIdentity.load(identityFile: identityFile!).map(\.recipient)
        }
        let skrybad = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("skrybad").path
        print("Rendering the scenario (\(scenario.lines.count) lines, \(scenario.calls.count) calls) and running skrybad on it …")
        let result = try Simulator.run(scenario, directory: directory, recipients: recipients, skrybad: skrybad)
        let rate = Double(scenario.rate)
        let seconds = { (frame: UInt64) in String(format: "%7.2f s", Double(frame) / rate) }
        print("\nCaptured \(result.report.framesCaptured) frames (\(seconds(result.report.framesCaptured))) on \(scenario.lines.count) lines; configuration \(result.configurationFile)")
        func row(_ cells: [String]) -> String {
            zip(cells, [5, 10, 10, 10, 10, 10, 11, 11, 9]).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }
                .joined(separator: " ")
        }
        // The daemon's report (the journal on the appliance) names no numbers; they come from the catalog.
        let catalog = try Catalog(dataDirectory: result.dataDirectory, actor: "skryba simulate")
        let rows = try catalog.recordings()
        let rowsByID = Dictionary(rows.map { ($0.id.description, $0) }, uniquingKeysWith: { first, _ in first })
        print()
        print(row(["line", "direction", "off-hook", "on-hook", "outcome", "consent", "caller", "dialled", "recording"]))
        for call in result.report.calls {
            let stored = call.recording.flatMap { rowsByID[$0] }
            print(row(["\(call.line)", call.direction, seconds(call.startFrame), seconds(call.endFrame), call.outcome, call.consent ?? "-",
                       stored?.callerNumber ?? "-", stored?.dialedDigits ?? "-", call.recording ?? "-"]))
        }
        for alarm in result.report.alarms { print(alarm) }

        print("\nCatalog (\(result.dataDirectory)/catalog.sqlite):")
        for row in rows {
            let announcement = row.announcement.map { "announcement \($0.id) \($0.completed == true ? "heard to the end" : "not completed")" } ?? "no announcement"
            print("  \(row.id)  line \(row.line)  \(row.direction.rawValue)  \(row.status.rawValue)  consent \(row.consent?.rawValue ?? "-")  \(announcement)  \(row.filePath ?? "no file")")
        }
        print(try catalog.audit.verify().summary.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))

        guard let identityFile else { return }
        let identities = try AgeIdentity.load(identityFile: identityFile)
        try FileManager.default.createDirectory(atPath: "\(directory)/decrypted", withIntermediateDirectories: true)
        print("\nDecrypted with the demo identity \(identityFile) (it never touched the appliance):")
        for row in rows {
            guard let file = row.filePath else { continue }
            guard let sealed = FileManager.default.contents(atPath: "\(result.dataDirectory)/\(file)") else {
                print("  \(row.id)  cannot read \(file)")
                continue
            }
            let opened = try SealedRecordingReader.open([UInt8](sealed), identities: identities)
            let target = "\(directory)/decrypted/\(row.id).opus"
            try Data(opened.plaintext).write(to: URL(fileURLWithPath: target))
            print("  \(target)  \(opened.problem.map { "\($0)" } ?? "complete and authentic")")
        }
    }
}

/// One recording as `skryba recordings list --json` prints it (field names are part of the interface).
struct RecordingListing: Encodable {
    struct AnnouncementInfo: Encodable {
        var id: String
        var sha256: String
        var completed: Bool?
    }
    var id: String
    var line: Int
    var direction: String
    var start: String
    var start_frame: UInt64
    var end_frame: UInt64?
    var duration_ms: Int64?
    var status: String
    var caller_number: String?
    var dialed_digits: String?
    var announcement: AnnouncementInfo?
    var consent: String?
    var file: String?
    var file_size: Int64?
    var file_sha256: String?
    var hold_refs: [String]
    var retention_deadline: String?
    var deleted: String?
    var deletion_rule: String?
    var restricted: Bool
    /// Holes in the timeline, each filled with silence in the file: start_frame, frames, offset_ms, duration_ms.
    var gaps: [RecordingGap]

    init(_ row: RecordingRow) {
        id = row.id.description
        line = row.line
        direction = row.direction.rawValue
        start = row.startUTC.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true)
            .timeSeparator(.colon).timeZone(separator: .omitted))
        start_frame = row.startFrame
        end_frame = row.endFrame
        duration_ms = row.durationMs
        status = row.status.rawValue
        caller_number = row.callerNumber
        dialed_digits = row.dialedDigits
        announcement = row.announcement.map { AnnouncementInfo(id: $0.id, sha256: $0.sha256, completed: $0.completed) }
        consent = row.consent?.rawValue
        file = row.filePath
        file_size = row.fileSize
        file_sha256 = row.fileSHA256
        hold_refs = row.holdRefs
        retention_deadline = row.retentionDeadlineUTC.map(UTCTimestamp.string(from:))
        deleted = row.deletedUTC.map(UTCTimestamp.string(from:))
        deletion_rule = row.deletionRule
        restricted = row.restrictedUTC != nil
        gaps = row.gaps
    }

    // Explicit nulls: every key is present in every object.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(line, forKey: .line)
        try container.encode(direction, forKey: .direction)
        try container.encode(start, forKey: .start)
        try container.encode(start_frame, forKey: .start_frame)
        try container.encode(end_frame, forKey: .end_frame)
        try container.encode(duration_ms, forKey: .duration_ms)
        try container.encode(status, forKey: .status)
        try container.encode(caller_number, forKey: .caller_number)
        try container.encode(dialed_digits, forKey: .dialed_digits)
        try container.encode(announcement, forKey: .announcement)
        try container.encode(consent, forKey: .consent)
        try container.encode(file, forKey: .file)
        try container.encode(file_size, forKey: .file_size)
        try container.encode(file_sha256, forKey: .file_sha256)
        try container.encode(hold_refs, forKey: .hold_refs)
        try container.encode(retention_deadline, forKey: .retention_deadline)
        try container.encode(deleted, forKey: .deleted)
        try container.encode(deletion_rule, forKey: .deletion_rule)
        try container.encode(restricted, forKey: .restricted)
        try container.encode(gaps, forKey: .gaps)
    }

    enum CodingKeys: String, CodingKey {
        case id, line, direction, start, start_frame, end_frame, duration_ms, status, caller_number, dialed_digits, announcement,
             consent, file, file_size, file_sha256, hold_refs, retention_deadline, deleted, deletion_rule, restricted, gaps
    }
}

/// How a command uses the data directory beside a running daemon.
enum CatalogAccess {
    /// Lists and checks: no lock.
    case read
    /// Changes that are each one SQLite transaction and delete nothing (holds, the copies register,
    /// restriction, correction): no lock, so a legal hold never waits for recording to stop; the
    /// daemon's own writes queue behind them on SQLite's lock, and its deletions re-read holds inside
    /// their own transaction.
    case transaction
    /// Recovery, retention runs and erasure, which close rows or delete files another process may be
    /// using: this process must be the directory's one owner (DataDirectoryLock).
    case owner
}
