import ArgumentParser
import Foundation
import SkrybaConfig
import SkrybaPipeline
import SkrybaStore
import SkrybaSystem

/// Who performs a change from the console: named in every audit entry it makes.
struct ActorOption: ParsableArguments {
    @Option(help: "Who does this (name or role), kept in the audit log.") var by: String = "console:technician"
    func validate() throws { try checkText(by, "--by") }
}

/// Rights actions (erase, restrict, correct) answer a person's request: who acted must be named.
struct RequiredActorOption: ParsableArguments {
    @Option(help: "Who does this (name or role, e.g. the DPO), kept in the audit log. Required.") var by: String
    func validate() throws { try checkText(by, "--by") }
}

/// Text that goes into the audit log, holds or the register: one line of printable text.
func checkText(_ value: String?, _ option: String) throws {
    if let value, let problem = FreeText.problem(value, field: option) { throw ValidationError(problem) }
}

extension DataDirectoryOption {
    /// Data-subject rights on this appliance, with its device key to sign receipts.
    func rights(actor: String, access: CatalogAccess) throws -> DataSubjectRights {
        let dataDir = try dataDir
        let catalog = try catalog(actor: actor, access: access), key = try DeviceKey.load(path: "\(dataDir)/\(DataLayout.deviceKey)")
        catalog.audit.signCheckpoints(with: key)
        return DataSubjectRights(catalog: catalog, dataDirectory: dataDir, signer: key)
    }

    /// The register of secured copies.
    func securedCopies(actor: String, access: CatalogAccess) throws -> SecuredCopies {
        SecuredCopies(catalog: try catalog(actor: actor, access: access), dataDirectory: try dataDir)
    }
}

func parseRecording(_ text: String) throws -> RecordingID {
    guard let id = RecordingID(text) else { throw ValidationError("'\(text)' is not a recording id (like R000123)") }
    return id
}

func parseDate(_ text: String, _ option: String) throws -> Date {
    do { return try CommandLineDate.parse(text) } catch { throw ValidationError("\(option): \(error)") }
}

struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Legal holds (R7): recordings that are evidence are kept past their retention until released.",
        subcommands: [HoldAddCommand.self, HoldReleaseCommand.self, HoldListCommand.self])
}

struct HoldAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Hold recordings by id, or every recording of a line in a period, for a case.")

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var actor: ActorOption
    @Option(name: .customLong("recording"), help: "A recording id (repeatable).") var recordings: [String] = []
    @Option(help: "A line: with --from and --to, hold its recordings in that period.") var line: Int?
    @Option(help: "Start of the period (UTC ISO 8601, or YYYY-MM-DD HH:MM Warsaw time).") var from: String?
    @Option(help: "End of the period.") var to: String?
    @Option(name: .customLong("case"), help: "The case reference (sygnatura).") var caseReference: String
    @Option(help: "Why the recordings are held.") var reason: String

    func validate() throws {
        try checkText(caseReference, "--case")
        try checkText(reason, "--reason")
    }

    func run() throws {
        let catalog = try data.catalog(actor: actor.by, access: .transaction)
        let hold: Hold
        if !recordings.isEmpty {
            guard line == nil, from == nil, to == nil else { throw ValidationError("give either --recording IDs or --line with --from and --to") }
            hold = try catalog.addHold(caseReference: caseReference, reason: reason, recordings: try recordings.map(parseRecording), by: actor.by, at: Date())
        } else {
            guard let line, let from, let to else { throw ValidationError("give --recording IDs, or --line with --from and --to") }
            hold = try catalog.addHold(caseReference: caseReference, reason: reason, line: line, from: try parseDate(from, "--from"),
                                       to: try parseDate(to, "--to"), by: actor.by, at: Date())
        }
        print("hold '\(hold.caseReference)' now keeps \(hold.recordings.count) recording(s): \(hold.recordings.map(\.description).joined(separator: ", "))")
    }
}

struct HoldReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Release a hold: its recordings' normal retention applies again (or they go at the next run).")

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var actor: ActorOption
    @Argument(help: "The case reference.") var caseReference: String
    @Option(help: "Why it is released (e.g. the proceedings ended).") var reason: String

    func validate() throws {
        try checkText(caseReference, "the case reference")
        try checkText(reason, "--reason")
    }

    func run() throws {
        let hold = try data.catalog(actor: actor.by, access: .transaction).releaseHold(caseReference: caseReference, reason: reason, by: actor.by, at: Date())
        print("hold '\(hold.caseReference)' released; \(hold.recordings.count) recording(s) follow their retention again")
    }
}

struct HoldListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List holds.")

    @OptionGroup var data: DataDirectoryOption
    @Flag(help: "Include released holds.") var all = false

    func run() throws {
        let rows = try data.catalog(actor: "skryba hold", access: .read).holds(includeReleased: all).map { hold in
            let state = hold.releasedUTC.map { "released \(WarsawTime.second($0))" } ?? "active"
            // Stored text is escaped: a value saved before input was checked cannot forge a line.
            return [FreeText.printable(hold.caseReference), hold.kind.rawValue, state, hold.recordings.map(\.description).joined(separator: ","),
                    FreeText.printable(hold.reason)]
        }
        printTable(["case", "kind", "state", "recordings", "reason"], rows)
    }
}

struct CopiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copies", abstract: "The register of secured copies (R8, Wałbrzych §7.4–7.9).",
        subcommands: [CopiesAddCommand.self, CopiesListCommand.self, CopiesRenewCommand.self, CopiesReleaseCommand.self])
}

struct CopiesAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Secure a recording on request: a sealed copy is made, held 4 months unless renewed, and entered in the register.",
        discussion: "Requests must come within 14 days of the call; a later one is refused unless --override gives the reason (audited).")

    @OptionGroup var data: DataDirectoryOption
    @Option(help: "The recording to secure.") var recording: String
    @Option(help: "The called number (the office's number or line).") var calledNumber: String
    @Option(help: "Who makes the copy.") var madeBy: String
    @Option(help: "When the written request arrived (default: now).") var requested: String?
    @Option(help: "The caller number as the request states it (default: the recording's caller ID).") var callerNumber: String?
    @Option(help: "Accept a request made more than 14 days after the call, for this reason.") var override: String?

    func validate() throws {
        try checkText(calledNumber, "--called-number")
        try checkText(madeBy, "--made-by")
        try checkText(callerNumber, "--caller-number")
        try checkText(override, "--override")
    }

    func run() throws {
        let copy = try data.securedCopies(actor: madeBy, access: .transaction).secure(try parseRecording(recording), calledNumber: calledNumber, madeBy: madeBy,
                                     requestReceived: try requested.map { try parseDate($0, "--requested") }, callerNumber: callerNumber,
                                     overrideReason: override, at: Date())
        print("secured copy \(copy.sequence) of \(copy.recording): \(copy.filePath), kept until \(copy.expiresUTC.map(WarsawTime.second) ?? "-")")
    }
}

struct CopiesListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Print the register of secured copies.")

    @OptionGroup var data: DataDirectoryOption
    @Flag(help: "CSV, for the paper register.") var csv = false

    func run() throws {
        let copies = try data.securedCopies(actor: "skryba copies", access: .read)
        if csv {
            print(try copies.registerCSV(), terminator: "")
            return
        }
        let rows = try copies.register().map { copy in
            let state = copy.destroyedUTC.map { "destroyed \(WarsawTime.second($0))" }
                ?? copy.releasedUTC.map { "released \(WarsawTime.second($0))" } ?? "kept until \(copy.expiresUTC.map(WarsawTime.second) ?? "-")"
            return [String(copy.sequence), copy.recording.description,
                    "\(WarsawTime.second(copy.periodFromUTC))–\(WarsawTime.second(copy.periodToUTC))",
                    FreeText.printable(copy.callerNumber ?? "-"), FreeText.printable(copy.calledNumber), FreeText.printable(copy.madeBy), state]
        }
        printTable(["copy", "recording", "period", "caller", "called", "made by", "state"], rows)
    }
}

struct CopiesRenewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "renew", abstract: "Renew a secured copy for another 4 months (the request was renewed).")

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var actor: ActorOption
    @Argument(help: "The register's sequence number.") var sequence: Int64

    func run() throws {
        let copy = try data.securedCopies(actor: actor.by, access: .transaction).renew(sequence: sequence, by: actor.by, at: Date())
        print("secured copy \(copy.sequence) kept until \(copy.expiresUTC.map(WarsawTime.second) ?? "-")")
    }
}

struct CopiesReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "release", abstract: "Note that a secured copy was handed over (released), with a note.")

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var actor: ActorOption
    @Argument(help: "The register's sequence number.") var sequence: Int64
    @Option(help: "To whom and on what basis.") var note: String

    func validate() throws { try checkText(note, "--note") }

    func run() throws {
        let copy = try data.securedCopies(actor: actor.by, access: .transaction).recordRelease(sequence: sequence, note: note, by: actor.by, at: Date())
        print("secured copy \(copy.sequence): release noted")
    }
}

struct RetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention", abstract: "Retention (R6): skrybad runs it at start-up and every check_every_minutes.",
        subcommands: [RetentionRunCommand.self, RetentionPreviewCommand.self, RetentionUntrustedCommand.self])
}

struct RetentionRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Delete what the retention policy says must go now; print what went and the signed receipt.")

    @Option(help: "The configuration file (policy and data_dir).") var config: String = "/etc/skryba/skryba.toml"

    func run() throws {
        let configuration = try ConfigurationLoader.load(path: config)
        try DataDirectoryLock.holdUntilExit(dataDirectory: configuration.dataDirectory)
        let reserve = StorageReserve(dataDirectory: configuration.dataDirectory)
        reserve.releaseIfFull()
        defer { reserve.restoreIfRoom() }
        let catalog = try Catalog(dataDirectory: configuration.dataDirectory, actor: "skryba retention")
        let key = try DeviceKey.load(path: "\(configuration.dataDirectory)/\(DataLayout.deviceKey)")
        catalog.audit.signCheckpoints(with: key)
        try RetentionSetup.checkFilesystem(configuration)
        let report = try RetentionSetup.engine(configuration, catalog: catalog, signer: key, clock: KernelClockStatus()).run(at: Date())
        if let change = report.policyChange {
            print("the policy changed: \(change.changes.count) recording(s) rescheduled to \(RetentionSetup.policy(configuration.retention))")
        }
        if !report.clock.isTrusted { print("nothing deleted by date: \(report.clock.reason)") }
        for item in report.deleted + report.lapsedCopies { print("deleted \(item.subject): \(item.rule)") }
        for failure in report.failures { print("FAILED: \(failure)") }
        print("\(report.deleted.count) recording(s) and \(report.lapsedCopies.count) secured cop(ies) deleted, \(report.bytesFreed) bytes freed")
        if report.nothingDeletable { print("ALARM: storage below its free-space rule and nothing left that may be deleted") }
        if let receipt = report.receipt { print("deletion receipt: audit entry \(receipt.seq), signed by the device key") }
        if let status = report.untrustedDateStatus { print(status) }
        if !report.failures.isEmpty { throw ExitCode.failure }
    }
}

struct RetentionPreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Before changing the retention policy: what the policy of --config would reschedule and delete on this appliance.",
        discussion: """
            Changes nothing. Give the edited configuration file (its data_dir, or --data-dir). skrybad applies a changed policy at its \
            next start and audits it (retention-policy-changed); the recordings listed here are then deleted by that start's retention \
            run. Deletions for space depend on the free space then and are not predicted.
            """)

    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let configuration: SkrybaConfiguration
        do { configuration = try ConfigurationLoader.load(path: data.config) } catch {
            throw CommandFailure("cannot use \(data.config):\n\(error)", code: .configuration)
        }
        let policy = RetentionSetup.policy(configuration.retention)
        let plan = try data.catalog(actor: "skryba retention", access: .read).retentionPreview(policy, at: Date())
        print("policy of \(data.config): \(policy)")
        print("\(plan.changes.count) recording(s) would get a new deadline (\(plan.earlier) earlier); "
              + "\(plan.dueNow.count) would be deleted at the next retention run")
        if !plan.dueNow.isEmpty {
            print("id\tline\tdirection\tstart\tnow kept by\tnew rule\tnew deadline")
            for planned in plan.dueNow {
                let row = planned.row
                print([row.id.description, String(row.line), row.direction.rawValue, WarsawTime.second(row.startUTC),
                       row.retentionRule ?? "not yet scheduled", planned.newRule,
                       planned.newDeadlineUTC.map(WarsawTime.second) ?? "-"].joined(separator: "\t"))
            }
        }
        let untrusted = try data.catalog(actor: "skryba retention", access: .read).recordings(status: nil, includeDeleted: false, includeRestricted: true)
            .filter(\.clockUntrusted).count
        if untrusted > 0 {
            print("\(untrusted) recording(s) dated on an untrusted clock are kept whatever the policy: see skryba retention untrusted")
        }
    }
}

struct RetentionUntrustedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "untrusted",
        abstract: "Recordings made while the system clock was not synchronised: retention never deletes them by their date.",
        discussion: """
            Their start time is what the unset clock read (often 1970). Each one is evidence of a call whose real date the DPO must \
            establish (from the office's records, the PBX's log); one that must go is erased with skryba recordings erase.
            """)

    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let rows = try data.catalog(actor: "skryba retention", access: .read).recordings(status: nil, includeDeleted: false, includeRestricted: true)
            .filter(\.clockUntrusted)
        print("\(rows.count) recording(s) dated on an untrusted clock")
        guard !rows.isEmpty else { return }
        print("id\tline\tdirection\tstart as recorded (untrusted)\tduration (s)\tstatus\tfile")
        for row in rows {
            print([row.id.description, String(row.line), row.direction.rawValue, WarsawTime.second(row.startUTC),
                   row.durationMs.map { String($0 / 1000) } ?? "-", row.status.rawValue, row.filePath ?? "-"].joined(separator: "\t"))
        }
    }
}

struct RecordingsEraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase", abstract: "Erase a recording at the data subject's request (GDPR art. 17); refused while it is held.")

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var actor: RequiredActorOption
    @Argument(help: "The recording id.") var recording: String
    @Option(help: "The request (reference, legal basis).") var reason: String

    func validate() throws {
        try checkText(reason, "--reason")
    }

    func run() throws {
        let rights = try data.rights(actor: actor.by, access: .owner)
        let erasure = try rights.erase(try parseRecording(recording), reason: reason, by: actor.by, at: Date())
        let deleted = erasure.deleted
        print("\(deleted.subject) erased (rule \"\(FreeText.printable(deleted.rule))\", \(deleted.bytesFreed) bytes freed); "
              + "signed deletion receipt: audit entry \(erasure.receipt.seq)")
    }
}

struct RecordingsRestrictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restrict", abstract: "Restrict processing (GDPR art. 18): the recording is kept but left out of ordinary exports.")

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var actor: RequiredActorOption
    @Argument(help: "The recording id.") var recording: String
    @Option(help: "The request.") var reason: String
    @Flag(help: "Lift the restriction instead.") var lift = false

    func validate() throws {
        try checkText(reason, "--reason")
    }

    func run() throws {
        let rights = try data.rights(actor: actor.by, access: .transaction)
        let id = try parseRecording(recording)
        if lift { try rights.unrestrict(id, reason: reason, by: actor.by, at: Date()) } else { try rights.restrict(id, reason: reason, by: actor.by, at: Date()) }
        print("\(recording) \(lift ? "no longer restricted" : "restricted")")
    }
}

struct RecordingsCorrectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "correct", abstract: "Correct an incoming call's caller number (GDPR art. 16).",
        discussion: """
            The catalog then holds the corrected number. The previous and the new number are kept with the correction \
            (not in the audit log) until the recording is deleted, and are erased with it. The audit log keeps only an \
            HMAC of each number (keyed with a random salt erased with them), never the number itself. Outgoing calls have \
            no caller number and are refused.
            """)

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var actor: RequiredActorOption
    @Argument(help: "The recording id.") var recording: String
    @Option(help: "The corrected caller number: digits, optionally after a leading '+' (3 to 15 digits).") var callerNumber: String
    @Option(help: "Why (the request).") var reason: String

    func validate() throws {
        try checkText(reason, "--reason")
        if let problem = PhoneNumber.problem(callerNumber) { throw ValidationError("--caller-number: \(problem)") }
    }

    func run() throws {
        let rights = try data.rights(actor: actor.by, access: .transaction)
        _ = try rights.correct(try parseRecording(recording), callerNumber: callerNumber, reason: reason, by: actor.by, at: Date())
        print("\(recording): caller number corrected")
    }
}
