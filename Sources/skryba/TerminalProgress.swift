#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Progress of long work (fsck, ...) for a person watching: one line on stderr that overwrites
/// itself with a carriage return, "fsck: 120/4000 recording(s)", cleared when the work ends. Only
/// when stderr is a terminal: piped or redirected (scripts, tests, journald) nothing is written,
/// so stdout and stderr read exactly as without it. README, "Progress".
final class TerminalProgress {
    private let label: String
    private let enabled: Bool
    private var shown = ""
    private var lastDrawn: ContinuousClock.Instant?

    init(_ label: String, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.enabled = enabled
    }

    /// `done` of `total` `unit`s; redrawn at most ten times a second, and always at the end.
    func update(_ done: Int, of total: Int, _ unit: String) {
        guard enabled else { return }
        let now = ContinuousClock.now
        if done < total, let lastDrawn, now - lastDrawn < .milliseconds(100) { return }
        lastDrawn = now
        draw("\(label): \(done)/\(total) \(unit)")
    }

    /// Removes the line, so what is printed next starts on a clean line.
    func finish() {
        guard enabled, !shown.isEmpty else { return }
        write("\r" + String(repeating: " ", count: shown.count) + "\r")
        shown = ""
    }

    private func draw(_ text: String) {
        let padding = String(repeating: " ", count: max(0, shown.count - text.count))
        write("\r" + text + padding)
        shown = text
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
