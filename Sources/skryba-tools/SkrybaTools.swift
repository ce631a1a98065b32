import ArgumentParser
import Foundation
import SkrybaOgg
import SkrybaPipeline
import SkrybaSeal
import SkrybaStore

@main
struct SkrybaTools: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skryba-tools",
        abstract: "Skryba tools for IT's workstation: verify, decrypt and convert sealed recordings.",
        discussion: """
            Keys are made with stock age-keygen (`age-keygen -o org.key`); the appliance is given only the
            recipient (`age1…`, printed by `age-keygen -y org.key`). Identity files stay with IT.
            Exit status: 0 complete and authentic; 3 authentic but interrupted (no final record: power loss
            or crash while recording); 1 damaged, altered, or not openable.
            """,
        version: SkrybaVersion.current,
        subcommands: [DecryptCommand.self, VerifyCommand.self, ToAgeCommand.self, VerifyReceiptsCommand.self, InspectCommand.self])
}

enum ToolExit {
    static let interrupted = ExitCode(3)
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path): cannot read the file") }
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
        discussion: "Only audio whose records authenticate is ever written. A damaged or interrupted recording yields its verified beginning.")

    @Option(name: .long, help: "Identity file as age-keygen writes it (AGE-SECRET-KEY-1…, comments allowed).") var identity: String
    @Argument(help: "A .skryba sealed recording or a .age file.") var input: String
    @Option(name: .shortAndLong, help: "Where to write the decrypted file.") var output: String

    func run() throws {
        let (plaintext, problem, kind) = try openFile(input, identityFile: identity)
        if !plaintext.isEmpty || problem == nil {
            try Data(plaintext).write(to: URL(fileURLWithPath: output))
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
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a sealed recording: structure and CRCs without a key; with --identity also every authentication tag and the final record.")

    @Option(name: .long, help: "Identity file: also authenticate every record.") var identity: String?
    @Argument(help: "A .skryba sealed recording.") var input: String

    func run() throws {
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
        let (plaintext, problem, _) = try openFile(input, identityFile: identity)
        if let problem {
            if case .noFinalRecord = problem, allowInterrupted {
                report("\(input): \(problem); converting the verified part as asked")
            } else {
                throw ValidationError("\(input): \(problem)")
            }
        }
        try Data(try AgePayload.encryptFile(plaintext, to: recipients)).write(to: URL(fileURLWithPath: output))
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
            Copy catalog.sqlite (and its -wal file) off the appliance, then give the device public key you pinned
            (`skryba device-key` on the console). Each receipt lists what was deleted, why and when; its Ed25519
            signature proves the appliance issued it. Also checks the audit chain the receipts sit in.
            """)

    @Option(help: "A copy of the appliance's catalog.sqlite.") var catalog: String
    @Option(help: "The device public key (64 hex digits) you pinned.") var publicKey: String

    func run() throws {
        let bytes = stride(from: 0, to: publicKey.count, by: 2).compactMap { UInt8(publicKey.dropFirst($0).prefix(2), radix: 16) }
        guard bytes.count == 32, publicKey.count == 64 else { throw ValidationError("--public-key takes 64 hex digits") }
        let key = Data(bytes)
        let store = try Catalog(path: catalog, actor: "skryba-tools")
        let chain = try store.audit.verify(trustedPublicKey: key)
        print(chain.summary)
        var bad = 0, good = 0
        for entry in try store.audit.entries() where entry.kind == AuditKind.deletionReceipt.rawValue {
            if DeletionReceipt.verify(entry: entry, publicKey: key) {
                good += 1
                print("receipt at entry \(entry.seq) (\(entry.timeUTC)): signature valid")
            } else {
                bad += 1
                print("receipt at entry \(entry.seq) (\(entry.timeUTC)): SIGNATURE INVALID")
            }
        }
        print("\(good) valid receipt(s), \(bad) invalid")
        if bad > 0 || !chain.isIntact { throw ExitCode.failure }
    }
}
