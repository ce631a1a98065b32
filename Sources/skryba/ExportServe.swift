import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SkrybaExport
import SkrybaStore

/// The forced command of the `export` account (docs/disclosure.md, "The export account"): sshd
/// runs it for every session, whatever the client asked, and puts the request in
/// SSH_ORIGINAL_COMMAND. Only `export --request REF`, `list --request REF` and, for keys whose
/// entry allows it, `export --backup` / `list --backup` are served; anything else is refused.
struct ExportServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-serve",
        abstract: "Serve exports to the SSH export account (its authorized_keys forced command).",
        discussion: """
            authorized_keys: restrict,from="WORKSTATION",command="skryba export-serve --data-dir DIR --key-comment NAME" ssh-ed25519 AAAA… NAME. \
            The key's fingerprint comes from sshd (ExposeAuthInfo yes → SSH_USER_AUTH) or --key-fingerprint; when both \
            are there they must agree. Exit status 0 served, 1 refused or broken off (the reason on standard error).
            """)

    @OptionGroup var data: DataDirectoryOption
    @Option(help: "The key's SHA256 fingerprint as ssh-keygen -lf prints it (when sshd does not expose it).") var keyFingerprint: String?
    @Option(help: "A name for the key: who or which workstation it belongs to.") var keyComment: String?
    @Flag(help: "This key may pull the administrative backup export.") var allowBackup = false
    @Option(help: "The export account's authorized_keys: the comment of the key sshd reports (and --allow-backup in its entry) are read there.")
    var authorizedKeys: String?
    @Option(help: "Serve as this user (the data directory's owner), through sudo -n, once the key is identified.") var runAs: String?

    enum Request: Equatable {
        case export(String)
        case list(String)
        case backup
        case listBackup
    }

    /// The client's command, word by word; anything but the four forms is nil.
    static func parse(_ command: String) -> Request? {
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        func validReference(_ text: String) -> Bool {
            !text.isEmpty && text.count <= 40 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        switch words.count {
        case 2 where words == ["export", "--backup"]: return .backup
        case 2 where words == ["list", "--backup"]: return .listBackup
        case 3 where words[1] == "--request" && validReference(words[2]):
            if words[0] == "export" { return .export(words[2]) }
            if words[0] == "list" { return .list(words[2]) }
            return nil
        default: return nil
        }
    }

    func run() throws {
        // A closed connection must show as EPIPE from write(), so the transfer can be recorded as broken.
        signal(SIGPIPE, SIG_IGN)
        let environment = ProcessInfo.processInfo.environment
        let command = environment["SSH_ORIGINAL_COMMAND"] ?? ""
        var client = try identify(environment)
        var allowBackup = allowBackup
        if let entry = try authorizedEntry(environment) {
            if keyComment == nil { client.keyComment = entry.comment }
            allowBackup = allowBackup || entry.allowsBackup
        }
        if let runAs, let me = getpwuid(geteuid()).map({ String(cString: $0.pointee.pw_name) }), me != runAs {
            try reexecute(as: runAs, client: client, allowBackup: allowBackup)
        }
        guard let request = Self.parse(command) else {
            let reason = command.isEmpty
                ? "this account only serves exports; run: ssh export@APPLIANCE export --request REF (or list --request REF)"
                : "'\(FreeText.printable(String(command.prefix(200))))' is not served here; this account only runs: export --request REF, list --request REF"
            try? RequestRegister(catalog: try data.catalog(actor: actorName(client), access: .transaction))
                .recordRefusedExport(nil, client: client, command: String(command.prefix(200)), reason: "not a served command", at: Date())
            throw CommandFailure(reason)
        }
        let register = RequestRegister(catalog: try data.catalog(actor: actorName(client), access: .transaction))
        let plan: ExportPlan
        do {
            switch request {
            case .export(let reference), .list(let reference): plan = try register.exportPlan(request: reference)
            case .backup, .listBackup:
                guard allowBackup else {
                    throw RequestError.refused("this key may not pull the backup export (its authorized_keys entry has no --allow-backup)")
                }
                plan = try register.backupPlan()
            }
        } catch let error as RequestError {
            var reference: String? = nil
            if case .export(let ref) = request { reference = ref }
            if case .list(let ref) = request { reference = ref }
            let subject = (try? register.request(reference ?? "")) != nil ? reference : nil
            try? register.recordRefusedExport(subject, client: client, command: command, reason: error.description, at: Date())
            throw CommandFailure(error.description)
        }
        switch request {
        case .list, .listBackup: try list(plan, register: register)
        case .export, .backup: try export(plan, register: register, client: client)
        }
    }

    func actorName(_ client: ExportClient) -> String { "export:\(client.keyFingerprint)" }

    /// The authorized_keys entry of the key sshd says authenticated (SSH_USER_AUTH): its comment,
    /// and whether its options carry --allow-backup. Needed when sshd_config's ForceCommand, not the
    /// entry's own command=, runs export-serve (then the entry's arguments never reach it).
    func authorizedEntry(_ environment: [String: String]) throws -> (comment: String, allowsBackup: Bool)? {
        guard let authorizedKeys, let path = environment["SSH_USER_AUTH"],
              let auth = try? String(contentsOfFile: path, encoding: .utf8),
              let key = auth.split(separator: "\n").last(where: { $0.hasPrefix("publickey ") })?.split(separator: " ").dropFirst(2).first else { return nil }
        guard let text = try? String(contentsOfFile: authorizedKeys, encoding: .utf8) else {
            throw CommandFailure("cannot read \(authorizedKeys) (--authorized-keys)")
        }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let range = line.range(of: " \(key)") ?? (line.hasPrefix(key) ? line.range(of: key) : nil) else { continue }
            let after = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
            return (after.isEmpty ? "-" : after, line[..<range.lowerBound].contains("--allow-backup"))
        }
        return nil
    }

    /// Runs the same request again as the data directory's owner, with the identity found here:
    /// `sudo -n -u USER skryba export-serve --key-fingerprint … --key-comment …` (sudoers keeps
    /// SSH_ORIGINAL_COMMAND and SSH_CLIENT; docs/disclosure.md).
    func reexecute(as user: String, client: ExportClient, allowBackup: Bool) throws -> Never {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var arguments = ["sudo", "-n", "-u", user, executable, "export-serve", "--key-fingerprint", client.keyFingerprint,
                         "--key-comment", client.keyComment]
        if let dataDirOverride = data.dataDirOverride { arguments += ["--data-dir", dataDirOverride] } else { arguments += ["--config", data.config] }
        if allowBackup { arguments.append("--allow-backup") }
        let argv = arguments.map { strdup($0) } + [nil]
        execv("/usr/bin/sudo", argv)
        throw CommandFailure("cannot run /usr/bin/sudo to serve as \(user): \(String(cString: strerror(errno)))")
    }

    /// Who is pulling: sshd's word (SSH_USER_AUTH) and/or the fingerprint the administrator wrote in
    /// the key's entry; without either the export is refused, since the bundle must name who pulled it.
    func identify(_ environment: [String: String]) throws -> ExportClient {
        var exposed: String?
        if let path = environment["SSH_USER_AUTH"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), let fingerprint = ExportClient.fingerprint(fromUserAuth: text) else {
                throw CommandFailure("SSH_USER_AUTH names \(path), which holds no public key: cannot tell which key is pulling")
            }
            exposed = fingerprint
        }
        if let exposed, let keyFingerprint, exposed != keyFingerprint {
            throw CommandFailure("the key that authenticated (\(exposed)) is not the one this authorized_keys entry names (\(keyFingerprint))")
        }
        guard let fingerprint = exposed ?? keyFingerprint else {
            throw CommandFailure("cannot tell which SSH key is pulling: set ExposeAuthInfo yes in sshd_config, or give --key-fingerprint in the key's command (docs/disclosure.md)")
        }
        let address = environment["SSH_CLIENT"].flatMap { $0.split(separator: " ").first.map(String.init) }
        return ExportClient(keyFingerprint: fingerprint, keyComment: keyComment ?? "-", address: address)
    }

    func list(_ plan: ExportPlan, register: RequestRegister) throws {
        if let request = plan.request {
            print("request \(request.reference) (\(request.kind.rawValue)), \(request.decision?.rawValue ?? "-") by \(FreeText.printable(request.decidedBy ?? "-")) on \(warsaw(request.decidedUTC))")
        } else {
            print("backup export: every sealed recording kept")
        }
        printTable(["recording", "start (Warsaw)", "line", "direction", "duration", "size", "file"], plan.items.map { item in
            let row = item.recording
            return [row.id.description, warsaw(row.startUTC), String(row.line), row.direction.rawValue,
                    row.durationMs.map { String(format: "%.1f s", Double($0) / 1000) } ?? "-", row.fileSize.map { String($0) } ?? "-",
                    BundleManifest.memberName(row.id)]
        })
        for (id, reason) in plan.excluded { print("left out: \(id): \(reason)") }
    }

    func export(_ plan: ExportPlan, register: RequestRegister, client: ExportClient) throws {
        let dataDir = try data.dataDir
        let key = try DeviceKey.load(path: "\(dataDir)/\(DataLayout.deviceKey)")
        guard !plan.items.isEmpty else {
            let reason = "request \(plan.request?.reference ?? "backup") covers no recording that can be exported"
                + plan.excluded.map { "; \($0.0): \($0.1)" }.joined()
            try? register.recordRefusedExport(plan.request?.reference, client: client, command: "export", reason: reason, at: Date())
            throw CommandFailure(reason)
        }
        if isatty(STDOUT_FILENO) != 0 { throw CommandFailure("refusing to write a tar bundle to a terminal; redirect it: ssh … export --request REF > bundle.tar") }
        var lineNumbers: [RecordingID: String] = [:]
        for item in plan.items { lineNumbers[item.recording.id] = try register.lineNumber(of: item.recording.id) }
        let now = Date()
        let (id, excerpt) = try register.beginExport(plan, client: client, signer: key, at: now)
        let writer = BundleWriter(dataDirectory: dataDir, signer: key)
        let result: BundleWriter.Result
        do throws(BundleWriter.Interrupted) {
            result = try writer.write(plan, exportID: id, client: client, excerpt: excerpt, lineNumbers: lineNumbers, to: STDOUT_FILENO, at: now)
        } catch {
            try register.finishExport(id, plan: plan, client: client, completed: false, bytes: error.bytes, manifestSHA256: nil,
                                      problem: error.description, at: Date())
            throw CommandFailure("export \(id) did not complete after \(error.bytes) bytes: \(error.description)")
        }
        try register.finishExport(id, plan: plan, client: client, completed: true, bytes: result.bytes,
                                  manifestSHA256: result.manifestSHA256, problem: nil, at: Date())
        FileHandle.standardError.write(Data("skryba: export \(id): \(plan.items.count) recording(s), \(result.bytes) bytes sent\n".utf8))
    }
}
