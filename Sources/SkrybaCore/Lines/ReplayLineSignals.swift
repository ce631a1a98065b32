/// The replay backend: ring and hook edges read from a file, one per line,
/// `FRAME<TAB>LINE<TAB>SIGNAL<TAB>LEVEL` (SIGNAL `ring`|`hook`, LEVEL 0|1), `#` comments and blank
/// lines allowed, frames non-decreasing. It stands in for libgpiod in simulation and tests; the
/// frames are given directly on the sample clock.
public final class ReplayLineSignals: LineSignalSource, @unchecked Sendable {
    private var edges: [SignalEdge]
    private var next = 0
    private let lock = ControlLock()

    /// Frames the replay pretends edges take to become known, as the board's debounce does (tests of the lag path).
    public var decisionDelay: UInt64 = 0

    public let watermarks: EdgeWatermarks? = EdgeWatermarks()

    public init(edges: [SignalEdge]) {
        self.edges = edges
        watermarks?.earliestQueued.store(edges.first?.frame ?? .max, ordering: .sequentiallyConsistent)
    }

    public func decisionDelayFrames(rate: Int) -> UInt64 { decisionDelay }

    /// Parses replay text; every problem is reported, each with `name:line`.
    /// - Parameter lines: the configured line ids; an edge for any other line is a problem.
    public static func parse(_ text: String, name: String, lines: Set<Int>) throws(ReplayError) -> ReplayLineSignals {
        var edges: [SignalEdge] = []
        var problems: [String] = []
        var previous: UInt64 = 0
        // "\r\n" is one Character in Swift: split on both so files from Windows editors work.
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let number = index + 1
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
            guard fields.count == 4 else {
                problems.append("\(name):\(number): expected 4 tab-separated fields FRAME LINE SIGNAL LEVEL, found \(fields.count)")
                continue
            }
            var ok = true
            func problem(_ text: String) {
                problems.append("\(name):\(number): \(text)")
                ok = false
            }
            let frame = UInt64(fields[0])
            if frame == nil { problem("FRAME '\(fields[0])' is not a whole number of frames") }
            let lineID = Int(fields[1])
            if let lineID { if !lines.contains(lineID) { problem("line \(lineID) is not configured (configured: \(lines.sorted().map(String.init).joined(separator: ", ")))") } }
            else { problem("LINE '\(fields[1])' is not a line number") }
            let signal = LineSignal(rawValue: String(fields[2]))
            if signal == nil { problem("SIGNAL '\(fields[2])' is neither 'ring' nor 'hook'") }
            let level: Bool? = fields[3] == "1" ? true : fields[3] == "0" ? false : nil
            if level == nil { problem("LEVEL '\(fields[3])' is neither 0 nor 1") }
            if let frame, frame < previous { problem("frame \(frame) comes after frame \(previous): frames must not go backwards") }
            guard ok, let frame, let lineID, let signal, let level else { continue }
            previous = frame
            edges.append(SignalEdge(frame: frame, line: lineID, signal: signal, level: level))
        }
        guard problems.isEmpty else { throw ReplayError(problems: problems) }
        return ReplayLineSignals(edges: edges)
    }

    public func takeEdges(before frame: UInt64) -> [SignalEdge] {
        lock.withLock {
            let start = next
            while next < edges.count && edges[next].frame < frame { next += 1 }
            watermarks?.earliestQueued.store(next < edges.count ? edges[next].frame : .max, ordering: .sequentiallyConsistent)
            return Array(edges[start..<next])
        }
    }

    public func close() {}
}

public struct ReplayError: Error, Equatable, CustomStringConvertible {
    public var problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { problems.joined(separator: "\n") }
}

extension Substring {
    var trimmingSpaces: Substring {
        var result = self
        while result.first == " " { result = result.dropFirst() }
        while result.last == " " { result = result.dropLast() }
        return result
    }
}
