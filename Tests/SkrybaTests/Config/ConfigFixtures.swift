import Foundation
import SkrybaConfig
import SkrybaPipeline
import SkrybaSeal
import SkrybaSystem
import Testing

/// Everything under Tests/SkrybaTests/Config (TOML reader, configuration model and validation):
/// `swift test --filter Config`.
@Suite enum ConfigTests {}

/// A temporary directory holding a configuration file and the WAV files it names.
struct ConfigFixture {
    let directory: String
    var configPath: String { "\(directory)/skryba.toml" }

    init(_ name: String) throws {
        directory = try makeTemporaryDirectory(prefix: "skryba-config-\(name)")
    }

    /// A 16-bit WAV of `frames` frames of a quiet tone.
    @discardableResult
    func wav(_ name: String, rate: Int = 8000, channels: Int = 1, frames: Int = 800) throws -> String {
        let path = "\(directory)/\(name)"
        let samples = (0..<frames * channels).map { Int16(truncatingIfNeeded: ($0 % 40) * 100) }
        try WAVFile(sampleRate: rate, channels: channels, samples: samples).write(path: path)
        return path
    }

    func write(_ text: String, to name: String = "skryba.toml") throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name)"))
    }

    /// Loads `text` as `skryba.toml` in this directory.
    func load(_ text: String) throws(ConfigurationError) -> SkrybaConfiguration {
        do { try write(text) } catch { Issue.record("cannot write the fixture: \(error)") }
        return try ConfigurationLoader.load(path: configPath)
    }

    /// The messages loading `text` produces (empty when it loads), with this directory shown as `DIR`.
    func problems(_ text: String) -> [String] {
        do {
            _ = try load(text)
            return []
        } catch {
            return error.problems.map { $0.description.replacingOccurrences(of: directory, with: "DIR") }
        }
    }
}

/// Recipients whose strings are fixed (the age spec's example and one more from age-keygen).
enum ConfigKeys {
    static let specRecipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
    static let otherRecipient = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg"
    /// The top of a valid two-channel configuration on the replay backend, before any `[[lines]]`
    /// (7 lines, so a key appended to it stands on line 8).
    static let minimalHead = """
        recipients = ["\(specRecipient)"]
        [audio]
        capture = "tap"
        channels = 2
        [gpio]
        backend = "replay"
        replay = "events.tsv"

        """
}

extension String {
    /// The text with `DIR` standing for `directory` (messages name absolute paths).
    func under(_ directory: String) -> String { replacingOccurrences(of: "DIR", with: directory) }
}
