import SkrybaSeal

/// One thing wrong with the configuration file, located: the technician fixes them one by one.
///
/// `description`: `skryba.toml:12: audio.rate: 44100 is not supported (8000 or 16000)`.
/// Syntax errors have no key (`skryba.toml:12: expected '=' after key 'rate'`); a problem with the
/// file as a whole has no line (`skryba.toml: cannot read the file: …`).
public struct ConfigProblem: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The configuration file, as given to the loader.
    public var file: String
    /// 1-based line of the file; nil only when the file as a whole is the problem.
    public var line: Int?
    /// Dotted key path (`audio.rate`, `lines[2].capture_channel`, `recipients[1]`); `lines[2]` is the
    /// second `[[lines]]` table in the file. Empty for syntax errors.
    public var key: String
    public var message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        // Messages quote what the file says; a pasted secret key must never reach the journal.
        self.key = AgeIdentity.redactingSecretKeys(in: key)
        self.message = AgeIdentity.redactingSecretKeys(in: message)
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(location): \(message)" : "\(location): \(key): \(message)"
    }
}

/// The configuration cannot be used; `problems` holds every problem found, in file order.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) { self.problems = problems }

    /// One line per problem.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
