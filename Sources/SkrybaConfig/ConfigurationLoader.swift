#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads `skryba.toml`: TOML with a line number for every key, then the model, validated.
/// Every problem is reported at once (never only the first), each naming its key and line.
public enum ConfigurationLoader {
    /// Reads and validates the file at `path`. Relative paths inside it are taken relative to the
    /// file's directory.
    public static func load(path: String) throws(ConfigurationError) -> SkrybaConfiguration {
        let bytes: [UInt8]
        switch readAll(path: path) {
        case .success(let read): bytes = read
        case .failure(let message): throw ConfigurationError(problems: [ConfigProblem(file: path, line: nil, key: "", message: message)])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let line = firstInvalidUTF8Line(bytes)
            throw ConfigurationError(problems: [ConfigProblem(file: path, line: line, key: "",
                                                              message: "this line is not valid UTF-8 (save the file as UTF-8)")])
        }
        return try parse(text, path: path)
    }

    /// Validates configuration text as if it were the file at `path` (messages name `path`;
    /// relative paths are resolved against its directory).
    public static func parse(_ text: String, path: String) throws(ConfigurationError) -> SkrybaConfiguration {
        try parse(text, path: path, hostName: hostName())
    }

    /// As `parse(_:path:)`, with the host name that `recorder_id` defaults to.
    public static func parse(_ text: String, path: String, hostName: String) throws(ConfigurationError) -> SkrybaConfiguration {
        let (root, diagnostics) = TOMLParser.read(text)
        var problems = diagnostics.prefix(maximumProblems).map {
            ConfigProblem(file: path, line: $0.position.line, key: $0.key, message: $0.message)
        }
        var unreported = diagnostics.count - problems.count
        guard let root else { throw ConfigurationError(problems: problems + more(unreported, path)) }
        var validator = Validator(file: path, baseDirectory: PathResolution.directory(of: path), hostName: hostName)
        let configuration = validator.configuration(from: root)
        problems += validator.problems
        unreported += validator.unreported
        guard problems.isEmpty, let configuration else {
            let shown = ordered(problems)
            throw ConfigurationError(problems: Array(shown.prefix(maximumProblems)) + more(unreported + max(0, shown.count - maximumProblems), path))
        }
        return configuration
    }

    /// At most this many problems are listed; the rest are counted in one last line.
    public static let maximumProblems = 100

    static func more(_ count: Int, _ path: String) -> [ConfigProblem] {
        count > 0 ? [ConfigProblem(file: path, line: nil, key: "", message: "\(count) more problem(s) not listed; fix the ones above first")] : []
    }

    /// This machine's host name (`gethostname`): the default `recorder_id`.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "skryba" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "skryba" : name
    }

    /// File order: by line (problems without a line first), keeping discovery order within a line.
    static func ordered(_ problems: [ConfigProblem]) -> [ConfigProblem] {
        problems.enumerated().sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }.map(\.element)
    }

    enum ReadOutcome {
        case success([UInt8])
        case failure(String)
    }

    static func readAll(path: String) -> ReadOutcome {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure("cannot read the configuration file: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return .failure("cannot read the configuration file: \(String(cString: strerror(errno)))") }
        guard status.st_mode & S_IFMT == S_IFREG else { return .failure("the configuration file is not a regular file") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                return .failure("cannot read the configuration file: \(String(cString: strerror(errno)))")
            }
            if got == 0 { return .success(bytes) }
            bytes += chunk[0..<got]
            if bytes.count > 4 << 20 { return .failure("the configuration file is larger than 4 MiB; is it the right file?") }
        }
    }

    static func firstInvalidUTF8Line(_ bytes: [UInt8]) -> Int {
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        where String(validating: line, as: UTF8.self) == nil {
            return index + 1
        }
        return 1
    }
}

/// Paths in the file are taken relative to the file's own directory.
enum PathResolution {
    static func directory(of file: String) -> String {
        let absolute = file.hasPrefix("/") ? file : currentDirectory() + "/" + file
        let normal = normalize(absolute)
        guard let slash = normal.lastIndex(of: "/") else { return "/" }
        return slash == normal.startIndex ? "/" : String(normal[..<slash])
    }

    static func resolve(_ path: String, against directory: String) -> String {
        normalize(path.hasPrefix("/") ? path : directory + "/" + path)
    }

    /// Removes `.`, `..` and repeated slashes, lexically (symbolic links are left alone).
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
