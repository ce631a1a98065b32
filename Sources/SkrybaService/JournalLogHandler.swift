#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging

/// swift-log to standard error, one line per message, as the journal reads it: under systemd
/// (`$JOURNAL_STREAM` set) each line starts with its syslog priority (`<6>` info, `<4>` warning, …,
/// sd-daemon(3)), which journald turns into the entry's priority; elsewhere lines read
/// `skrybad: message`. Metadata is not printed: the lines are for people, and nothing personal
/// (caller numbers, digits) is ever logged.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let withPriority: Bool
    private static let lock = NSLock()

    public init(label: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.label = label
        withPriority = environment["JOURNAL_STREAM"].map { !$0.isEmpty } ?? false
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// syslog(3) priorities for swift-log's levels.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    public func log(event: LogEvent) {
        let text = "\(event.message)".replacingOccurrences(of: "\n", with: " ")
        let line = (withPriority ? "<\(Self.priority(event.level))>" : "") + "\(label): \(text)\n"
        let bytes = Array(line.utf8)
        // One write per line, so lines from several threads never interleave.
        Self.lock.withLock { bytes.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) } }
    }
}
