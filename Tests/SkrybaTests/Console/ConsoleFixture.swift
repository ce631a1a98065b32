import Foundation
import SkrybaPipeline
import SkrybaStore
import SkrybaSystem

/// Everything under Tests/SkrybaTests/Console: `swift test --filter Console`.
enum Repository {
    /// The worktree this test was built from.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static var template: String { "\(root)/image/skryba.toml.example" }
}

/// An appliance's configuration directory and data directory: the shipped template (its comments
/// and layout as a technician gets them) pointed at a temporary data directory, in English.
struct ConsoleFixture {
    let directory: String
    var configPath: String { "\(directory)/skryba.toml" }
    var dataDirectory: String { "\(directory)/data" }
    var socketPath: String { "\(directory)/control.sock" }
    let originalText: String

    init(_ name: String, configured: Bool = true) throws {
        directory = try makeTemporaryDirectory(prefix: "skryba-console-\(name)")
        try FileManager.default.createDirectory(atPath: "\(directory)/data", withIntermediateDirectories: true)
        let template = try String(contentsOfFile: Repository.template, encoding: .utf8)
        originalText = template.replacingOccurrences(of: "data_dir = \"/var/lib/skryba\"", with: "data_dir = \"\(directory)/data\"")
            .replacingOccurrences(of: "recorder_id = \"urzad-1\"", with: "recorder_id = \"urzad-1\"\nlanguage = \"en\"")
        let samples = (0..<4000).map { Int16(truncatingIfNeeded: ($0 % 40) * 200) }
        try WAVFile(sampleRate: 8000, channels: 1, samples: samples).write(path: "\(directory)/zapowiedz.wav")
        if configured { try originalText.write(toFile: configPath, atomically: false, encoding: .utf8) }
    }

    var text: String { (try? String(contentsOfFile: configPath, encoding: .utf8)) ?? "" }

    /// `skryba console` on a pseudo-terminal, started directly (no login).
    func console(_ extra: [String] = []) throws -> PseudoTerminal {
        try PseudoTerminal(Tool.product("skryba"), ["console", "--config", configPath, "--control-socket", socketPath, "--language", "en"] + extra)
    }

    func catalog() throws -> Catalog { try Catalog(dataDirectory: dataDirectory, actor: "test") }

    /// `skryba console` from a pipe on this fixture's files, as a technician would script it.
    func scripted(_ input: String) throws -> (status: Int32, text: String) {
        try Self.scripted(input, config: configPath, socket: socketPath)
    }

    /// `skryba console` from a pipe, as a technician would script it: its exit status and standard output.
    /// `asNobody`: as a login that cannot open the catalog, like `technician` on the image;
    /// `adminGroup`: that login is in the control socket's group (as `technician` is in `skryba`).
    static func scripted(_ input: String, config: String, socket: String, asNobody: Bool = false, adminGroup: Int? = nil) throws -> (status: Int32, text: String) {
        let process = Process()
        let arguments = ["console", "--config", config, "--control-socket", socket, "--language", "en"]
        if asNobody {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            let groups = adminGroup.map { "--groups=\($0)" } ?? "--clear-groups"
            process.arguments = ["--reuid=65534", "--regid=65534", groups, Tool.product("skryba")] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Tool.product("skryba"))
            process.arguments = arguments
        }
        process.environment = ["SUDO_USER": "jan.kowalski", "PATH": "/usr/bin:/bin"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}

/// Keys as a VT100/xterm terminal sends them.
enum Key {
    static let left = "\u{1B}[D", right = "\u{1B}[C", up = "\u{1B}[A", down = "\u{1B}[B", home = "\u{1B}[H", end = "\u{1B}[F"
    static let tab = "\t", enter = "\r", backspaceDEL = "\u{7F}", backspaceBS = "\u{08}"
    static let ctrlC = "\u{03}", ctrlU = "\u{15}", ctrlW = "\u{17}", ctrlZ = "\u{1A}", ctrlBackslash = "\u{1C}", ctrlD = "\u{04}"
}

extension RetentionFixture {
    /// Real sealed recordings in the console fixture's data directory.
    init(catalog: Catalog, directory: String) throws {
        self.directory = directory
        self.catalog = catalog
        key = try DeviceKey.loadOrCreate(dataDirectory: directory, audit: catalog.audit, at: Date())
    }
}
