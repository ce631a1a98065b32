import ArgumentParser
import Foundation
import SkrybaDocuments
import SkrybaPipeline
import SkrybaStore

/// Documents for the case file, in Polish (docs/documents.md). They read the catalog read-only.
struct DocumentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "documents",
        abstract: "Documents for the case file, in Polish, as A4 HTML or PDF: the register of secured copies, the deletion report.",
        subcommands: [DocumentsCopiesRegisterCommand.self, DocumentsDeletionsCommand.self])
}

extension DocumentFormat: ExpressibleByArgument {}

/// Where and how a document is written.
struct DocumentOutputOptions: ParsableArguments {
    @Option(help: "html or pdf.") var format: DocumentFormat = .pdf
    @Option(name: .shortAndLong, help: "The file to write.") var output: String
    @Option(help: "The office named on the document (e.g. \"Urząd Miasta i Gminy Piaseczno\").") var office: String = ""
    @Option(help: "Where DejaVuSans.ttf and DejaVuSans-Bold.ttf are (Debian fonts-dejavu-core).")
    var fontDirectory: String = DocumentFonts.defaultDirectory

    func validate() throws { if !office.isEmpty { try checkText(office, "--office") } }

    var officeValue: Office { Office(name: office, town: "") }

    /// Renders `document` and writes it whole (a temporary file renamed into place).
    func write(_ document: Document) throws {
        let bytes: [UInt8]
        do { bytes = try document.rendered(as: format, fonts: { () throws(DocumentError) in try DocumentFonts.load(directory: fontDirectory) }) } catch {
            throw CommandFailure("cannot render the document: \(error)")
        }
        do { try Data(bytes).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw CommandFailure("cannot write \(output): \((error as NSError).localizedDescription)")
        }
        print("\(output): \(format.rawValue.uppercased()), \(bytes.count) bytes")
        let missing = document.charactersMissingFromPDF
        if format == .pdf, !missing.isEmpty {
            FileHandle.standardError.write(Data(("skryba: warning: the PDF prints \"?\" for \(missing.map { "'\($0)'" }.joined(separator: ", ")) "
                + "(outside its Polish encoding); the HTML (--format html) shows them\n").utf8))
        }
    }
}

extension DataDirectoryOption {
    /// The catalog opened SQLITE_OPEN_READONLY: a document changes nothing on the appliance.
    func readOnlyCatalog() throws -> ReadOnlyCatalog {
        let path = "\(try dataDir)/\(DataLayout.catalog)"
        do { return try ReadOnlyCatalog(path: path) } catch { throw CommandFailure(error.description, code: .configuration) }
    }
}

struct DocumentsCopiesRegisterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copies-register",
        abstract: "The register of secured copies (Wałbrzych § 7 ust. 8 a–h) with Polish headers, landscape A4.")

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var document: DocumentOutputOptions

    func run() throws {
        let copies = try data.readOnlyCatalog().securedCopiesRegister()
        try document.write(SecuredCopiesRegister(office: document.officeValue, copies: copies, generated: Date()).document)
    }
}

struct DocumentsDeletionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deletions",
        abstract: "What was deleted in a period, when and under which rule: the signed deletion receipts as a report.",
        discussion: """
            --from and --to are Warsaw times (2026-11-01, 2026-11-01 08:00) or UTC (2026-11-01T07:00:00Z). A date alone in --to \
            includes that whole day. With --public-key each receipt's signature is checked against the key IT pinned; without it, \
            against the key the receipt names (the report prints its fingerprint to compare).
            """)

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var document: DocumentOutputOptions
    @Option(help: "Receipts signed at or after this time.") var from: String
    @Option(help: "Receipts signed before this time (a date alone: to the end of that day).") var to: String
    @Option(help: "The device public key (64 hex digits) IT pinned.") var publicKey: String?

    func run() throws {
        let start = try parseDate(from, "--from")
        var end = try parseDate(to, "--to")
        if to.trimmingCharacters(in: .whitespaces).count == 10 { end = LegalTime.adding(days: 1, to: end) }
        guard start < end else { throw ValidationError("--from (\(from)) must come before --to (\(to))") }
        let pinned = try publicKey.map { hex in
            guard hex.count == 64, let key = DeletionReport.publicKey(hex: hex) else { throw ValidationError("--public-key takes 64 hex digits") }
            return key
        }
        let entries = try data.readOnlyCatalog().audit.entries()
        try document.write(DeletionReport(office: document.officeValue, from: start, to: end, auditEntries: entries,
                                          pinnedPublicKey: pinned, generated: Date()).document)
    }
}
