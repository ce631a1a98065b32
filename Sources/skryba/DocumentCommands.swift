import ArgumentParser
import Foundation
import SkrybaConfig
import SkrybaDocuments
import SkrybaPipeline
import SkrybaStore

/// Documents for the case file, in Polish (docs/documents.md). They read the catalog read-only.
struct DocumentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "documents",
        abstract: "Documents for the case file, in Polish, as A4 HTML or PDF: the listening protocol, the refusal notice, the register of secured copies, the deletion report.",
        subcommands: [DocumentsListeningProtocolCommand.self, DocumentsRefusalNoticeCommand.self, DocumentsCopiesRegisterCommand.self,
                      DocumentsDeletionsCommand.self])
}

extension DocumentFormat: ExpressibleByArgument {}

/// Where and how a document is written.
struct DocumentOutputOptions: ParsableArguments {
    @Option(help: "html or pdf.") var format: DocumentFormat = .pdf
    @Option(name: .shortAndLong, help: "The file to write.") var output: String
    @Option(help: "The office named on the document (e.g. \"Urząd Miasta i Gminy Piaseczno\"); default: the configuration's [office] name.")
    var office: String = ""
    @Option(help: "Where DejaVuSans.ttf and DejaVuSans-Bold.ttf are (Debian fonts-dejavu-core).")
    var fontDirectory: String = DocumentFonts.defaultDirectory

    func validate() throws { if !office.isEmpty { try checkText(office, "--office") } }

    /// The configuration's `[office]`, with --office (when given) as its name.
    func officeValue(_ configured: OfficeConfiguration?) -> Office {
        guard let configured else { return Office(name: office, town: "") }
        // "05-500 Piaseczno" → "Piaseczno".
        let town = configured.town ?? configured.address.last.map { line in
            String(line.drop { $0.isNumber || $0 == "-" }).trimmingCharacters(in: .whitespaces)
        } ?? ""
        return Office(name: office.isEmpty ? configured.name : office, address: configured.address, town: town,
                      dataProtectionOfficer: configured.dataProtectionOfficer)
    }

    /// Renders `document` and writes it whole (a temporary file renamed into place).
    func write(_ document: Document) throws {
        let bytes = try Self.render(document, as: format, fontDirectory: fontDirectory)
        do { try Data(bytes).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw CommandFailure("cannot write \(output): \((error as NSError).localizedDescription)")
        }
        print("\(output): \(format.rawValue.uppercased()), \(bytes.count) bytes")
    }

    /// The document's bytes; warns about characters the PDF cannot print.
    static func render(_ document: Document, as format: DocumentFormat, fontDirectory: String) throws -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try document.rendered(as: format, fonts: { () throws(DocumentError) in try DocumentFonts.load(directory: fontDirectory) }) } catch {
            throw CommandFailure("cannot render the document: \(error)")
        }
        let missing = document.charactersMissingFromPDF
        if format == .pdf, !missing.isEmpty {
            FileHandle.standardError.write(Data(("skryba: warning: the PDF prints \"?\" for \(missing.map { "'\($0)'" }.joined(separator: ", ")) "
                + "(outside its Polish encoding); the HTML (--format html) shows them\n").utf8))
        }
        return bytes
    }
}

extension DataDirectoryOption {
    /// The configuration, for the office and the lines' names and record of processing. With
    /// --data-dir and no usable configuration file the documents go without them.
    func optionalConfiguration() throws -> SkrybaConfiguration? {
        do { return try ConfigurationLoader.load(path: config) } catch {
            if dataDirOverride != nil && !FileManager.default.fileExists(atPath: config) { return nil }
            throw CommandFailure("cannot use \(config):\n\(error)", code: .configuration)
        }
    }

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
        try document.write(SecuredCopiesRegister(office: document.officeValue(try data.optionalConfiguration()?.office), copies: copies, generated: Date()).document)
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
        try document.write(DeletionReport(office: document.officeValue(try data.optionalConfiguration()?.office), from: start, to: end, auditEntries: entries,
                                          pinnedPublicKey: pinned, generated: Date()).document)
    }
}

/// The request, the recordings it covers and the configuration, read for a register document.
struct RegisterDocumentSource {
    var request: DisclosureRequest
    var recordings: [RegisterRecording]
    var listenings: [Listening]
    var configuration: SkrybaConfiguration?

    init(data: DataDirectoryOption, reference: String) throws {
        configuration = try data.optionalConfiguration()
        let register = RequestRegister(catalog: try data.catalog(actor: "skryba documents", access: .read))
        request = try register.request(reference)
        var recordings: [RegisterRecording] = []
        for id in request.recordings {
            guard let row = try register.catalog.recording(id) else { throw CommandFailure("request \(reference) names recording \(id), which the catalog does not hold") }
            recordings.append(RegisterRecording(candidate: Candidate(recording: row, lineNumber: try register.lineNumber(of: id)),
                                                lineName: configuration?.line(id: row.line)?.name))
        }
        self.recordings = recordings
        listenings = try register.listenings(of: reference)
    }
}

struct DocumentsListeningProtocolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listening-protocol",
        abstract: "The listening protocol (Piaseczno § 4 ust. 3) of a granted request, pre-filled from the register of requests.")

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var document: DocumentOutputOptions
    @Option(help: "The request's reference (RQ-YYYY-NNNN).") var request: String

    func run() throws {
        let source = try RegisterDocumentSource(data: data, reference: request)
        let made: ListeningProtocol
        do {
            made = try ListeningProtocol(register: source.request, recordings: source.recordings, listenings: source.listenings,
                                         office: document.officeValue(source.configuration?.office), generated: Date())
        } catch { throw CommandFailure(error.description) }
        try document.write(made.document)
    }
}

struct DocumentsRefusalNoticeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refusal-notice",
        abstract: "The written notice to the requester of a refused request, in Polish, from the register of requests.")

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var document: DocumentOutputOptions
    @Option(help: "The request's reference (RQ-YYYY-NNNN).") var request: String

    func run() throws {
        let source = try RegisterDocumentSource(data: data, reference: request)
        let notice: SkrybaDocuments.RefusalNotice
        do { notice = try SkrybaDocuments.RefusalNotice(register: source.request, office: document.officeValue(source.configuration?.office)) } catch {
            throw CommandFailure(error.description)
        }
        try document.write(notice.document)
    }
}
