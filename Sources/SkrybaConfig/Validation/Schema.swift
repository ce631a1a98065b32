import SkrybaCore

/// The keys each table of skryba.toml may hold (docs/configuration.md describes each one).
enum Schema {
    static let root = ["data_dir", "recipients", "recorder_id", "language", "flush_interval_ms", "audio", "opus", "gpio", "retention", "lines", "office"]
    static let retention = ["period", "incoming", "outgoing", "keep_free", "check_every_minutes"]
    static let audio = ["capture", "playback", "rate", "channels", "playback_channels", "period_ms"]
    static let opus = ["bitrate", "complexity"]
    static let gpio = ["backend", "replay", "debounce_ms"]
    static let line = ["id", "name", "capture_channel", "playback_channel", "ring", "hook", "record", "announcement",
                       "announcement_id", "consent", "opt_out_key", "opt_out_window_ms", "outgoing_notice", "purpose", "legal_basis", "information_clause",
                       "retention", "retention_incoming", "retention_outgoing"]
    static let pin = ["chip", "line", "active_low", "bias"]
    static let office = ["name", "address", "town", "data_protection_officer"]

    /// Where a key belongs, for a key written in the wrong table ("bitrate belongs in [opus]").
    static let home: [String: String] = {
        var home: [String: String] = [:]
        for key in root where !["audio", "opus", "gpio", "retention", "lines", "office"].contains(key) { home[key] = "at the top of the file, before the first [table]" }
        for key in audio { home[key] = "in [audio]" }
        for key in opus { home[key] = "in [opus]" }
        for key in gpio { home[key] = "in [gpio]" }
        for key in retention where home[key] == nil { home[key] = "in [retention]" }
        for key in line { home[key] = "in a [[lines]] table" }
        for key in pin { home[key] = "in a line's ring or hook" }
        for key in office where home[key] == nil { home[key] = "in [office]" }
        return home
    }()

    static let supportedRates = [8000, 16000]
    static let periodChoices = [5, 10, 20, 40, 60, 80, 100]
    static let telephoneKeys: [Character] = Array("0123456789*#ABCD")
    static let flushRange = 20...5000
    static let debounceRange = 0...1000
    static let optOutWindowRange = 0...60000
    /// Every number is bounded here, so no value that passes validation can overflow later.
    static let channelRange = 1...LineLayout.maximumChannels
    static let maximumLines = LineLayout.maximumChannels
    static let lineIDRange = 1...999
    static let gpioOffsetRange = 0...65535

    /// The closest known key, when the unknown one looks like a typo of it.
    static func suggestion(for key: String, among known: [String]) -> String? {
        let normal = normalized(key)
        var best: (key: String, distance: Int)?
        for candidate in known {
            let distance = editDistance(normal, normalized(candidate))
            let limit = candidate.count <= 4 ? 1 : 2
            if distance <= limit, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        return best?.key
    }

    private static func normalized(_ key: String) -> [Character] {
        Array(key.lowercased().map { $0 == "-" || $0 == " " ? "_" : $0 })
    }

    /// Optimal string alignment distance (a swap of neighbours counts once).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
