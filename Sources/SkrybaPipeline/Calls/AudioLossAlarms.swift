import SkrybaCapture

extension Alarm {
    /// The audio a run dropped, as alarms: one per line whose ring overflowed (its worker fell
    /// behind a device-paced capture) and one for the capture device's overruns, which every line
    /// suffers. Empty when nothing was lost.
    /// - Parameters:
    ///   - lines: the line id of each ring, in ring order.
    ///   - bufferFrames: the capture device's buffer; an overrun discards at least that much.
    public static func audioLost(ringOverflows: [RingOverflow], lines: [Int], recoveredOverruns: UInt64, bufferFrames: Int,
                                 rate: Int, at frame: UInt64) -> [Alarm] {
        func seconds(_ frames: UInt64) -> String { String(format: "%.3f s", Double(frames) / Double(rate)) }
        var alarms: [Alarm] = []
        for (line, overflow) in zip(lines, ringOverflows) where overflow.frames > 0 {
            alarms.append(Alarm(kind: .audioLost, line: line, frame: frame, message:
                "line \(line) lost \(seconds(overflow.frames)) of audio (\(overflow.frames) frames in \(overflow.periods) dropped periods): "
                + "its ring was full because the line worker fell behind the capture"))
        }
        if recoveredOverruns > 0 {
            let least = recoveredOverruns * UInt64(bufferFrames)
            alarms.append(Alarm(kind: .audioLost, line: 0, frame: frame, message:
                "the capture device overran \(recoveredOverruns) time\(recoveredOverruns == 1 ? "" : "s"): every line lost at least "
                + "\(seconds(least)) of audio (alsa-lib discards the device buffer, \(bufferFrames) frames, at each overrun)"))
        }
        return alarms
    }
}
