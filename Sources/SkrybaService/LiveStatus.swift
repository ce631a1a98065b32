import Foundation
import SkrybaPipeline

/// What `skryba status` shows and the control socket's `status` answers (docs/control-socket.md).
/// Times are UTC ISO 8601 here; people see them on the Warsaw clock.
public struct LiveStatus: Codable, Sendable, Equatable {
    public struct Line: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        /// `on-hook`, `off-hook`, or `starting` before the capture delivered its first period.
        public var state: String
        /// The loudest sample of the last period, dBFS (-96 = silence).
        public var levelDBFS: Double
        public var call: Call?
    }
    public struct Call: Codable, Sendable, Equatable {
        public var line: Int
        public var direction: String
        public var seconds: Double
    }
    public struct Alarm: Codable, Sendable, Equatable {
        public var kind: String
        public var line: Int
        public var message: String
        public var raisedUTC: String
        public var count: Int
    }
    public struct Storage: Codable, Sendable, Equatable {
        public var dataDirectory: String
        public var totalBytes: Int64
        public var freeBytes: Int64
        /// Days until the filesystem is full at the rate it filled since skrybad started (nil: not measurable yet).
        public var daysLeft: Double?
        /// Messages waiting for the storage thread (records, call opens and closes).
        public var pending: Int
    }
    public struct Clock: Codable, Sendable, Equatable {
        public var utc: String
        public var synchronised: Bool
        public var reason: String
    }

    public var version: String
    /// `recording` while the capture runs; `starting` before; `stopping` once SIGTERM came.
    public var state: String
    public var startedUTC: String
    public var sampleClock: UInt64
    public var lines: [Line]
    public var calls: [Call]
    public var alarms: [Alarm]
    public var storage: Storage
    public var clock: Clock
    public var deviceKeyFingerprint: String
    /// Counts for `skryba status --json`: alarms in force, calls in progress.
    public var alarmCount: Int
    public var callsInProgress: Int
}

/// ISO 8601 UTC with seconds, as the catalog and the audit log write times.
enum UTC {
    static func string(_ date: Date) -> String { date.formatted(.iso8601) }
}

extension LiveStatus.Alarm {
    init(_ active: ActiveAlarm) {
        self.init(kind: active.alarm.kind.rawValue, line: active.alarm.line, message: active.alarm.message,
                  raisedUTC: UTC.string(active.raisedAt), count: active.count)
    }
}
