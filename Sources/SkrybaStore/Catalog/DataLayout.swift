import Foundation

/// Where things live under the data directory (docs/storage.md). Paths stored in the catalog are
/// relative to it, so a data directory can be copied or mounted elsewhere as a whole.
public enum DataLayout {
    public static let catalog = "catalog.sqlite"
    public static let keysDirectory = "keys"
    public static let deviceKey = "keys/device-ed25519.key"
    public static let recordingsDirectory = "recordings"
    public static let sealedExtension = "skryba"

    /// "recordings/YYYY/MM/DD/R000123.skryba", the day being the recording's UTC start date.
    public static func recordingPath(_ id: RecordingID, startUTC: Date) -> String {
        let day = UTCTimestamp.string(from: startUTC).prefix(10).replacingOccurrences(of: "-", with: "/")
        return "\(recordingsDirectory)/\(day)/\(id).\(sealedExtension)"
    }
}
