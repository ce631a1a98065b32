import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SkrybaOgg
import SkrybaPipeline
import SkrybaExport
import SkrybaSeal
import SkrybaStore
import SkrybaSystem

@main
struct SkrybaTools: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skryba-tools",
        abstract: "Skryba tools for IT's workstation: verify, decrypt and convert sealed recordings.",
        discussion: """
            Keys are made with stock age-keygen (`age-keygen -o org.key`); the appliance is given only the \
            recipient (`age1…`, printed by `age-keygen -y org.key`). Identity files stay with IT.

            Exit status: 0 complete and authentic; 3 authentic but interrupted (no final record: power loss \
            or crash while recording); 1 damaged, altered, or not openable (the reason is printed as \
            "skryba-tools: …" on standard error); 64 a mistake in the command's arguments (printed with the usage).
            """,
        version: SkrybaVersion.current,
        subcommands: [DecryptCommand.self, VerifyCommand.self, ToAgeCommand.self, VerifyReceiptsCommand.self, InspectCommand.self, ListenCommand.self, VerifyReportCommand.self])

    /// Argument mistakes print the usage (exit 64), as argument-parser does; a failure while the command
    /// runs prints only "skryba-tools: <reason>" and exits 1.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch where exitCode(for: error) == .failure && !(error is ExitCode) {
            report("skryba-tools: \(message(for: error))")
            exit(withError: ExitCode.failure)
        } catch {
            exit(withError: error)
        }
    }
}

enum ToolExit {
    static let interrupted = ExitCode(3)
}

/// A refusal or failure in a sentence; exit status 1 (ValidationError would mean a usage error, 64).
struct ToolFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw ToolFailure("\(path): cannot read the file") }
    return [UInt8](data)
}

func report(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

/// Opens a sealed recording or a standard age file with the identities in `identityFile`.
/// Returns the verified plaintext and, for sealed recordings, what is wrong with the rest.
func openFile(_ input: String, identityFile: String) throws -> (plaintext: [UInt8], problem: SealedFormatError?, kind: String) {
    let identities = try AgeIdentity.load(identityFile: identityFile)
    let bytes = try readFile(input)
    do {
        let opened = try SealedRecordingReader.open(bytes, identities: identities)
        return (opened.plaintext, opened.problem, "sealed recording, \(opened.verifiedRecords) of \(opened.layout.records.count) record(s) verified")
    } catch .standardAgeFile {
        let (header, length) = try AgeHeader.parse(bytes)
        let fileKey = try header.unwrap(with: identities)
        return (try AgePayload.decrypt(bytes[length...], fileKey: fileKey), nil, "age file")
    }
}

struct DecryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt a sealed recording to a standard .opus file (also opens standard age files).",
        discussion: """
            Only audio whose records authenticate is ever written. A damaged or interrupted recording yields its verified \
            beginning; with --salvage, every record that authenticates is kept and the holes are reported. \
            The output is written owner-only (0600) and never onto the input or any other sealed recording.
            """)

    @Option(name: .long, help: "Identity file as age-keygen writes it (AGE-SECRET-KEY-1…, comments allowed).") var identity: String
    @Argument(help: "A .skryba sealed recording or a .age file.") var input: String
    @Option(name: .shortAndLong, help: "Where to write the decrypted file (with --salvage: NAME.salvaged.opus, see there).") var output: String
    @Flag(help: """
        Keep every record that authenticates, skipping damaged ones. Writes NAME.salvaged.opus and the report \
        NAME.salvaged.txt (NAME from -o); exit status 0 when nothing was missing, 1 when there were holes, \
        3 when no record was damaged but the final one is absent (interrupted).
        """) var salvage = false

    func run() throws {
        // An export bundle (docs/disclosure.md): -o is a directory for its .opus files and index.
        if BundleVerifier.isBundle(input) { return try BundleTools.decrypt(input, identityFile: identity, directory: output, deviceKey: nil) }
        if salvage { return try runSalvage() }
        try OutputFile.refuseOverwriting(output, input: input)
        let (plaintext, problem, kind) = try openFile(input, identityFile: identity)
        if !plaintext.isEmpty || problem == nil {
            try OutputFile.write(plaintext, to: output, input: input)
        }
        guard let problem else {
            report("\(input): \(kind); wrote \(plaintext.count) bytes to \(output)")
            return
        }
        report("\(input): \(problem)")
        report("\(input): \(kind); wrote only the verified \(plaintext.count) bytes to \(output)")
        if case .noFinalRecord = problem { throw ToolExit.interrupted }
        throw ExitCode.failure
    }

    func runSalvage() throws {
        let names = SalvageReport.outputNames(for: output)
        for name in [names.opus, names.report] { try OutputFile.refuseOverwriting(name, input: input) }
        let identities = try AgeIdentity.load(identityFile: identity)
        let bytes = try readFile(input)
        let salvaged: SealedRecordingReader.Salvaged
        do { salvaged = try SealedRecordingReader.salvage(bytes, identities: identities) } catch .standardAgeFile {
            throw ToolFailure("\(input): --salvage works on sealed recordings; this is a standard age file (decrypt it without --salvage)")
        }
        let result = SalvageReport(input: input, outputName: names.opus, salvaged: salvaged)
        try OutputFile.write(result.opus, to: names.opus, input: input)
        try OutputFile.write(Array(result.text.utf8), to: names.report, input: input)
        report(result.text.trimmingCharacters(in: .newlines))
        report("\(input): wrote \(result.opus.count) bytes of salvaged audio to \(names.opus) and the report to \(names.report)")
        if !salvaged.holes.isEmpty { throw ExitCode.failure }
        if !salvaged.hasFinalRecord { throw ToolExit.interrupted }
    }
}

/// Files IT's tools write: owner-only, complete or absent (temporary file, fsync, rename), and never
/// in place of the input or of any sealed recording or age file.
enum OutputFile {
    static func refuseOverwriting(_ path: String, input: String) throws {
        var target = stat()
        guard stat(path, &target) == 0 else { return }  // nothing there (a dangling link is replaced, not followed)
        var source = stat()
        if stat(input, &source) == 0, source.st_dev == target.st_dev, source.st_ino == target.st_ino {
            throw ToolFailure("\(path) is the input file \(input) itself (the same file, perhaps through a link): "
                                  + "writing there would destroy the sealed recording; give another output file")
        }
        guard target.st_mode & S_IFMT == S_IFREG else { throw ToolFailure("\(path) exists and is not a regular file; give another output file") }
        if let kind = encryptedKind(of: path) {
            throw ToolFailure("\(path) is \(kind): refusing to overwrite it; give another output file")
        }
    }

    /// "a sealed recording" or "an age file" when the file at `path` starts like one.
    static func encryptedKind(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let start = [UInt8]((try? handle.read(upToCount: 64)) ?? Data())
        if start.starts(with: SealedFormat.magicLine) { return "a sealed recording" }
        if start.starts(with: Array("age-encryption.org/".utf8)) || start.starts(with: Array("-----BEGIN AGE ENCRYPTED FILE".utf8)) {
            return "an age file"
        }
        return nil
    }

    static func write(_ bytes: [UInt8], to path: String, input: String) throws {
        try refuseOverwriting(path, input: input)
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = "\(directory)/.\(url.lastPathComponent).\(getpid()).partial"
        do {
            let file = try FileDescriptor.open(temporary, .createExclusive(permissions: 0o600))
            do {
                try file.writeAll(bytes, path: temporary)
                try file.sync(path: temporary)
                try file.close(path: temporary)
            } catch {
                try? file.close()
                throw error
            }
            try Directory.rename(temporary, to: path, directory: directory)
        } catch {
            unlink(temporary)
            throw error
        }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a sealed recording: structure and CRCs without a key; with --identity also every authentication tag and the final record.")

    @Option(name: .long, help: "Identity file: also authenticate every record.") var identity: String?
    @Argument(help: "A .skryba sealed recording, or an export bundle (.tar).") var input: String
    @Option(help: "For a bundle: the pinned device key, its fingerprint (16 hex digits) or full key (64).") var deviceKey: String?

    func run() throws {
        if BundleVerifier.isBundle(input) {
            guard let deviceKey else { throw ValidationError("verifying a bundle needs the pinned device key: --device-key FINGERPRINT") }
            return print(BundleTools.summary(try BundleTools.verify(input, deviceKey: deviceKey), path: input, pinned: true))
        }
        let bytes = try readFile(input)
        let layout = try SealedRecordingReader.scan(bytes)
        let seconds = Double(layout.position) / 48000
        print("\(input): sealed recording v1, \(layout.header.stanzas.count) recipient stanza(s), \(layout.records.count) whole record(s), audio reaches \(String(format: "%.2f", seconds)) s")
        if let identity {
            let opened = try SealedRecordingReader.open(bytes, identities: try AgeIdentity.load(identityFile: identity))
            if let problem = opened.problem {
                print("FAILED: \(problem)")
                print("verified: header MAC and \(opened.verifiedRecords) record(s)")
                if case .noFinalRecord = problem { throw ToolExit.interrupted }
                throw ExitCode.failure
            }
            print("OK: header MAC, every record's CRC32C and authentication tag, and the final record verified")
            return
        }
        switch layout.tail {
        case .closed:
            print("OK: every record's CRC32C matches and the last record is final (authenticity needs --identity)")
        case .interrupted:
            print("INTERRUPTED: no final record after record \(layout.records.count - 1); the recording was cut by a crash or power loss")
            throw ToolExit.interrupted
        case .torn(_, let reason), .corrupted(_, let reason):
            print("FAILED: \(reason)")
            throw ExitCode.failure
        case .trailingData(let offset):
            print("FAILED: unexpected bytes after the final record, from byte \(offset)")
            throw ExitCode.failure
        }
    }
}

struct ToAgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "to-age",
        abstract: "Convert a sealed recording into a standard age file that stock `age -d` opens.",
        discussion: "Decrypts with --identity (all records must authenticate), then encrypts the .opus for each --recipient with a fresh file key.")

    @Option(name: .long, help: "Identity file that opens the recording.") var identity: String
    @Option(name: .long, help: "age1… recipient of the new file (repeatable).") var recipient: [String]
    @Flag(help: "Convert an interrupted recording (no final record) too.") var allowInterrupted = false
    @Argument(help: "A .skryba sealed recording.") var input: String
    @Option(name: .shortAndLong, help: "The .age file to write.") var output: String

    func run() throws {
        guard !recipient.isEmpty else { throw ValidationError("give at least one --recipient age1…") }
        let recipients = try recipient.map { try AgeRecipient(parsing: $0) }
        try OutputFile.refuseOverwriting(output, input: input)
        let (plaintext, problem, _) = try openFile(input, identityFile: identity)
        if let problem {
            if case .noFinalRecord = problem, allowInterrupted {
                report("\(input): \(problem); converting the verified part as asked")
            } else {
                throw ToolFailure("\(input): \(problem)")
            }
        }
        try OutputFile.write(try AgePayload.encryptFile(plaintext, to: recipients), to: output, input: input)
        report("\(input): wrote \(output) for \(recipients.count) recipient(s)")
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show the Ogg Opus structure of a decrypted recording: pages, granule positions, pre-skip, tags; checks every CRC.")

    @Argument(help: "An .opus file.") var file: String

    func run() throws {
        let pages = try OggReader.pages(in: try readFile(file))
        let packets = OggReader.packets(in: pages)
        let summary = try OpusStreamSummary(pages: pages, packets: packets)
        print("\(file): \(pages.count) pages, \(packets.count) packets, all page CRCs valid")
        print("pre-skip \(summary.preSkip) samples at 48 kHz, input rate \(summary.inputSampleRate) Hz")
        print("vendor: \(summary.vendor)")
        for comment in summary.comments { print("  \(comment)") }
        print(String(format: "duration %.3f s (final granule %lld)", summary.durationSeconds, summary.finalGranule))
    }
}

struct VerifyReceiptsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-receipts",
        abstract: "For the data-protection officer: check every signed deletion receipt in a copy of the appliance's catalog.",
        discussion: """
            Copy catalog.sqlite (and its -wal file) off the appliance, then give the device public key you pinned \
            (`skryba device-key` on the console). Each receipt lists what was deleted, why and when; its Ed25519 \
            signature proves the appliance issued it. Also checks the audit chain the receipts sit in.
            """)

    @Option(help: "A copy of the appliance's catalog.sqlite (opened read-only; its -wal file must be beside it).") var catalog: String
    @Option(help: "The device public key (64 hex digits) you pinned.") var publicKey: String

    func run() throws {
        let bytes = stride(from: 0, to: publicKey.count, by: 2).compactMap { UInt8(publicKey.dropFirst($0).prefix(2), radix: 16) }
        guard bytes.count == 32, publicKey.count == 64 else { throw ValidationError("--public-key takes 64 hex digits") }
        let key = Data(bytes)
        let store = try ReadOnlyCatalog(path: catalog)
        let chain = try store.audit.verify(trustedPublicKey: key)
        print(chain.summary)
        var bad = 0, good = 0
        for entry in try store.audit.entries() where entry.kind == AuditKind.deletionReceipt.rawValue {
            let valid = DeletionReceipt.verify(entry: entry, publicKey: key)
            if valid { good += 1 } else { bad += 1 }
            let receipt = DeletionReceipt(entry: entry)
            print("")
            print("receipt at entry \(entry.seq) (\(WarsawTime.second(utc: entry.timeUTC))): "
                  + (valid ? "signature valid, \(receipt?.items.count ?? 0) item(s)" : "SIGNATURE INVALID: do not rely on the items below"))
            if let receipt { print(Self.table(receipt.items)) }
        }
        print("")
        print("\(good) valid receipt(s), \(bad) invalid")
        if bad > 0 || !chain.isIntact { throw ExitCode.failure }
    }

    /// The items as aligned columns, one line each, for the DPO's file.
    static func table(_ items: [DeletionReceipt.Item]) -> String {
        let rows = [["ID", "RULE", "DEADLINE", "DELETED", "SHA-256 OF THE DELETED FILE"]]
            + items.map { [$0.subject, $0.rule, WarsawTime.second(utc: $0.deadlineUTC), WarsawTime.second(utc: $0.deletedUTC), $0.fileSHA256 ?? "-"] }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            "  " + row.enumerated().map { column, text in
                column == 4 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
